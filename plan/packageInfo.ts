/**
 * Where this package lives, so defaults (the example program and stack config) resolve relative to
 * the package, not to the working directory, whether run from source or from dist/.
 */
import * as fs from "fs";
import * as path from "path";

export const PACKAGE_NAME = "hardened-build-fleet";
/** The package's source repository (package.json `repository`; a test keeps the two equal). */
export const REPOSITORY_URL = "https://github.com/hardened-build-fleet/hardened-build-fleet";

let cached: { root: string; version: string } | undefined;

function find(): { root: string; version: string } {
    if (!cached) {
        let dir = __dirname;
        for (;;) {
            const manifest = path.join(dir, "package.json");
            if (fs.existsSync(manifest)) {
                const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
                if (pkg.name === PACKAGE_NAME) {
                    cached = { root: dir, version: String(pkg.version ?? "0.0.0") };
                    break;
                }
            }
            const up = path.dirname(dir);
            if (up === dir) {
                cached = { root: path.resolve(__dirname, ".."), version: "0.0.0" };
                break;
            }
            dir = up;
        }
    }
    return cached;
}

/** The package's root directory (holding package.json). */
export function packageRoot(): string {
    return find().root;
}

export function packageVersion(): string {
    return find().version;
}

/** The policy reference's entry for one of this package's rules, at the docs of the running version. */
export function policyReferenceUrl(policy: string): string {
    return `${REPOSITORY_URL}/blob/v${packageVersion()}/docs/policy-reference.md#${policy}`;
}

/** The version range this package asks for `dependency` (peer, then runtime dependency), or undefined. */
export function dependencyRange(dependency: string): string | undefined {
    try {
        const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8"));
        return pkg.peerDependencies?.[dependency] ?? pkg.dependencies?.[dependency];
    } catch {
        return undefined;
    }
}

/** The repository root above `from` (the nearest directory with `.git`), else `from` itself. */
export function repoRoot(from: string): string {
    let dir = path.resolve(from);
    for (;;) {
        if (fs.existsSync(path.join(dir, ".git"))) {
            return dir;
        }
        const up = path.dirname(dir);
        if (up === dir) {
            return path.resolve(from);
        }
        dir = up;
    }
}
