/**
 * Reference lookups shared by the model: one node per resource whatever the spelling. Full resource names, self
 * links, `//service.googleapis.com/...` ids, short ids (`{project}/{location}/{ring}/{key}` and
 * siblings), `projects/<number>` for `projects/<id>`, `gs://` and `b/` bucket forms, and bare
 * names (disambiguated by the referring resource's project) all find the same resource.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { unknown } from "./props";

export const str = (v: unknown): string | undefined => (typeof v === "string" && !unknown(v) && v !== "" ? v : undefined);

/** Strips scheme/host/API version: self links and ids compare as `projects/...` paths. */
export function normRef(ref: string): string {
    let s = ref.trim().replace(/^gs:\/\//, "");
    const i = s.indexOf("projects/");
    if (i > 0 && /^(https?:)?\/\//.test(s)) {
        s = s.slice(i);
    } else if (/^(https?:)?\/\//.test(s)) {
        s = s.replace(/^(https?:)?\/\/[^/]+\/(v\d[^/]*\/)?/, "");
    }
    return s.replace(/\/+$/, "");
}

export function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
    const arr = m.get(k);
    if (arr) {
        if (!arr.includes(v)) {
            arr.push(v);
        }
    } else {
        m.set(k, [v]);
    }
}

export function uniq<V>(vs: V[]): V[] {
    return [...new Set(vs)];
}

/** Resources of `types` among the property dependencies of `prop`. */
export function depsOf(r: PolicyResource, prop: string, types: readonly string[]): PolicyResource[] {
    const deps = r.propertyDependencies?.[prop] ?? [];
    return deps.filter((d) => d && types.includes(d.type));
}

/** A reference that is either a literal (resolved through a lookup) or unknown (resolved through dependencies). */
export interface Resolved {
    found: PolicyResource[];
    /** A known literal that matches nothing in this stack. */
    external?: string;
    /** Unknown and no dependency of the right type. */
    unknown: boolean;
}

export function resolveRef(r: PolicyResource, prop: string, value: unknown, types: readonly string[], find: (ref: string) => PolicyResource[]): Resolved {
    if (unknown(value)) {
        const found = depsOf(r, prop, types);
        return { found, unknown: found.length === 0 };
    }
    if (typeof value === "string" && value !== "") {
        const found = find(value);
        if (found.length === 0) {
            // A literal written out by hand that still names a resource this one depends on.
            const deps = depsOf(r, prop, types);
            if (deps.length === 1) {
                return { found: deps, unknown: false };
            }
        }
        return found.length > 0 ? { found, unknown: false } : { found, external: value, unknown: false };
    }
    return { found: [], unknown: false };
}

/** An id -> resources index, with a project-aware fallback for bare names. */
export class Lookup {
    private readonly full = new Map<string, PolicyResource[]>();
    private readonly short = new Map<string, { r: PolicyResource; project?: string }[]>();

    constructor(private readonly canon: (path: string) => string) {}

    add(r: PolicyResource, full: (string | undefined)[], short: (string | undefined)[], project?: string): void {
        for (const k of full) {
            if (k) {
                push(this.full, this.canon(normRef(k)), r);
            }
        }
        for (const k of short) {
            if (k) {
                const arr = this.short.get(k) ?? [];
                if (!arr.some((x) => x.r === r)) {
                    arr.push({ r, project });
                }
                this.short.set(k, arr);
            }
        }
    }

    /** Resources named by `ref`; a bare name is narrowed to `project` when the referrer has one. */
    find(ref: string, project?: string): PolicyResource[] {
        const n = this.canon(normRef(ref));
        const hit = this.full.get(n);
        if (hit) {
            return hit;
        }
        if (n.includes("/")) {
            return [];
        }
        const hits = this.short.get(n) ?? [];
        const inProject = project === undefined ? hits : hits.filter((h) => h.project === undefined || h.project === project);
        return (inProject.length > 0 ? inProject : hits).map((h) => h.r);
    }
}

