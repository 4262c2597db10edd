/**
 * The benchmark's floor: the resources a plan registered, registered again raw. Same types (each through
 * its own provider class, so it declares the same outputs), same names, same inputs, but no component,
 * no parent, no dependency wiring and no policy: what registering this stack costs the Pulumi runtime
 * before this package adds anything.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CapturedResource } from "../plan/engine";

/** One resource to register raw. */
export interface RawResource {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

/** For a type no provider class is found for: the runtime's own resource, with the same inputs. */
class GenericResource extends pulumi.CustomResource {
    constructor(type: string, name: string, inputs: Record<string, unknown>) {
        super(type, name, inputs);
    }
}

type ResourceClass = new (name: string, args: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

const PACKAGES: Record<string, string> = {
    gcp: "@pulumi/gcp",
    kubernetes: "@pulumi/kubernetes",
    random: "@pulumi/random",
    "docker-build": "@pulumi/docker-build",
};

function packageRoot(pkg: string): any {
    const module = PACKAGES[pkg];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return module === undefined ? undefined : require(module);
}

/**
 * The provider class of a type token (`gcp:compute/network:Network` → gcp.compute.Network,
 * `kubernetes:networking.k8s.io/v1:NetworkPolicy` → k8s.networking.v1.NetworkPolicy), or undefined.
 */
export function providerClassOf(type: string): ResourceClass | undefined {
    const [pkg, module, name] = type.split(":");
    let ns: any;
    if (pkg === "pulumi" && module === "providers") {
        ns = packageRoot(name);
        return ns?.Provider;
    }
    const root = packageRoot(pkg);
    if (pkg === "kubernetes") {
        const [group, version] = module.split("/");
        ns = root?.[group.split(".")[0]]?.[version];
    } else {
        const first = module.split("/")[0];
        ns = first === "index" ? root : root?.[first];
    }
    const cls = ns?.[name];
    return cls !== undefined && cls.__pulumiType === type ? cls : undefined;
}

/**
 * A provider's inputs as its constructor takes them: the runtime sends provider inputs as strings
 * (`enableServerSideApply: "true"`), and passing the string back would be stringified a second time.
 */
function providerArgs(inputs: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v === "true" ? true : v === "false" ? false : v]));
}

/** The custom resources of a captured run, as the floor registers them. */
export function rawResourcesOf(resources: readonly CapturedResource[]): RawResource[] {
    return resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, inputs: r.type.startsWith("pulumi:providers:") ? providerArgs(r.inputs) : r.inputs }));
}

/** Registers every resource raw; returns how many fell back to the generic CustomResource (no class found). */
export function registerRaw(resources: readonly RawResource[]): number {
    let generic = 0;
    const classes = new Map<string, ResourceClass | undefined>();
    for (const r of resources) {
        if (!classes.has(r.type)) {
            classes.set(r.type, providerClassOf(r.type));
        }
        const cls = classes.get(r.type);
        if (cls !== undefined) {
            new cls(r.name, { ...r.inputs });
        } else {
            generic++;
            new GenericResource(r.type, r.name, { ...r.inputs });
        }
    }
    return generic;
}
