/**
 * Writes the generated reference pages (`npm run docs`); `--check` only reports which are stale.
 * test/docs.test.ts fails while a committed page differs from what this renders.
 */
import * as fs from "fs";
import * as path from "path";
import { renderConfigReference } from "./configReference";
import { renderDashboardSvg } from "./dashboardSvg";
import { renderPolicyReference } from "./policyReference";

const DOCS = path.join(__dirname, "..", "..", "docs");

/** Each generated page: its path under docs/ and its renderer. */
export const GENERATED_PAGES: Record<string, () => string> = {
    "config-reference.md": renderConfigReference,
    "policy-reference.md": renderPolicyReference,
    "dashboard.svg": renderDashboardSvg,
};

function main(check: boolean): number {
    let stale = 0;
    for (const [page, render] of Object.entries(GENERATED_PAGES)) {
        const file = path.join(DOCS, page);
        const text = render();
        const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
        if (current === text) {
            continue;
        }
        if (check) {
            console.error(`docs/${page} is stale: run npm run docs`);
            stale++;
        } else {
            fs.writeFileSync(file, text);
            console.log(`wrote docs/${page}`);
        }
    }
    return stale === 0 ? 0 : 1;
}

if (require.main === module) {
    process.exitCode = main(process.argv.includes("--check"));
}
