/**
 * The resource type universe of the installed providers: every `__pulumiType` token @pulumi/gcp,
 * @pulumi/kubernetes, @pulumi/random and @pulumi/docker-build export, their provider resources, and the component types the Kubernetes SDK
 * registers itself (yaml, kustomize, helm v3 charts). Read from the packages' files (one grep-like
 * pass, no module loading), so the completeness test stays fast.
 */
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "./paths";

/** The provider packages this package depends on (package.json). */
const PACKAGES = ["gcp", "kubernetes", "random", "docker-build"];

/** Component types the Kubernetes SDK registers from client-side code (not `__pulumiType` constants). */
const SDK_COMPONENTS = ["kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v2:Chart"];

function* jsFiles(dir: string): Generator<string> {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
            yield* jsFiles(p);
        } else if (e.name.endsWith(".js")) {
            yield p;
        }
    }
}

/** Version of an installed provider package. */
export function providerVersion(pkg: string): string {
    return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", "@pulumi", pkg, "package.json"), "utf8")).version;
}

/** Every resource type token of the installed providers, sorted. */
export function installedTypes(): string[] {
    const out = new Set<string>(SDK_COMPONENTS);
    for (const pkg of PACKAGES) {
        const root = path.join(REPO_ROOT, "node_modules", "@pulumi", pkg);
        for (const f of jsFiles(root)) {
            if (f.includes(`${path.sep}node_modules${path.sep}`, root.length)) {
                continue;
            }
            const text = fs.readFileSync(f, "utf8");
            for (const m of text.matchAll(/__pulumiType = '([^']+)'/g)) {
                // The provider class's token is the package name; its resources are pulumi:providers:<pkg>.
                out.add(m[1] === pkg ? `pulumi:providers:${pkg}` : m[1]);
            }
            for (const m of text.matchAll(/super\("(kubernetes:[^"]+)"/g)) {
                out.add(m[1]);
            }
        }
    }
    return [...out].sort();
}
