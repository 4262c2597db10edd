/**
 * A program must share this package's copy of `@pulumi/pulumi`: the plan engine installs its runtime mocks
 * and reads the resource graph through its own copy, so resources a program registers through a second
 * copy are never seen (and `instanceof` checks between the two fail). npm installs a second copy when a
 * consumer's lockfile holds a version outside this package's range.
 */
import * as fs from "fs";
import * as path from "path";

export interface PulumiCopy {
    /** Directory of the copy (realpath). */
    dir: string;
    version: string;
}

function copyAt(manifest: string): PulumiCopy {
    let version = "unknown";
    try {
        version = JSON.parse(fs.readFileSync(manifest, "utf8")).version ?? version;
    } catch {
        // unreadable manifest: still a copy
    }
    return { dir: fs.realpathSync(path.dirname(manifest)), version };
}

/** This package's copy and the one `programDir` resolves, or undefined when the program resolves none. */
export function pulumiCopies(programDir: string): { ours: PulumiCopy; theirs: PulumiCopy } | undefined {
    let theirs: string;
    try {
        theirs = require.resolve("@pulumi/pulumi/package.json", { paths: [programDir] });
    } catch {
        return undefined;
    }
    return { ours: copyAt(require.resolve("@pulumi/pulumi/package.json")), theirs: copyAt(theirs) };
}

/** Why the program in `programDir` cannot be planned with this package's `@pulumi/pulumi`, and the fix; undefined when it can. */
export function secondPulumiCopyProblem(programDir: string, required: string): string | undefined {
    const copies = pulumiCopies(programDir);
    if (copies === undefined || copies.ours.dir === copies.theirs.dir) {
        return undefined;
    }
    return `the program resolves a second copy of @pulumi/pulumi (${copies.theirs.version} at ${copies.theirs.dir}) besides hardened-build-fleet's ` +
        `(${copies.ours.version} at ${copies.ours.dir}); resources it registers through the other copy are invisible to the plan, and pulumi up ` +
        `breaks the same way. Fix: install one version in the program's project, \`npm install @pulumi/pulumi@"${required}"\` (then \`npm ls @pulumi/pulumi\` ` +
        "shows a single deduped copy)";
}
