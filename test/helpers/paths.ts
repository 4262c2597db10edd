/** Absolute paths tests read from, so a test file's own depth in the tree never matters. */
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const TEST_FIXTURES = path.join(REPO_ROOT, "test", "fixtures");
