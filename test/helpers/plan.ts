/** Runs the plan command in-process with captured output, on the plan fixtures. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Policy } from "@pulumi/policy";
import { main } from "../../plan/cli";
import { fixturePolicies } from "../fixtures/plan/policies";

export const FIXTURES = path.join(__dirname, "..", "fixtures", "plan");
export const PROGRAM = path.join(FIXTURES, "fleet.ts");
export const config = (stack: string) => path.join(FIXTURES, `Pulumi.${stack}.yaml`);

export interface CliRun {
    code: number;
    stdout: string;
    stderr: string;
}

/**
 * `main(argv)` with the fixture policies, stdout/stderr captured, relative paths from `cwd`.
 * Type-checking is off unless `typecheck` (the type check has its own tests; it costs seconds per run).
 */
export async function plan(argv: string[], opts: { policies?: Policy[]; cwd?: string; tty?: boolean; typecheck?: boolean } = {}): Promise<CliRun> {
    let stdout = "";
    let stderr = "";
    const code = await main(opts.typecheck ? argv : [...argv, "--no-typecheck"], {
        policies: opts.policies ?? fixturePolicies,
        io: {
            stdout: (t) => {
                stdout += t;
            },
            stderr: { isTTY: opts.tty ?? false, write: (t: string) => (stderr += t) },
            cwd: opts.cwd ?? FIXTURES,
        },
    });
    return { code, stdout, stderr };
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-test-"));
    return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
