/**
 * Pass 1 of the model: every resource by URN, type and every spelling of its id (see lookup.ts).
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown, UNKNOWN_VALUE, unwrap } from "./props";
import { Lookup, normRef, push, resolveRef, str } from "./lookup";
import { T } from "./types";

/** Pass 1: every resource by URN, type and every spelling of its id. */
export class RefIndex {
    readonly resources: PolicyResource[];
    readonly byUrn = new Map<string, PolicyResource>();
    readonly byType = new Map<string, PolicyResource[]>();
    /** Project number -> project id (from Project resources in the stack). */
    private readonly projectNumbers = new Map<string, string>();
    private readonly canon = (p: string): string => this.canonicalPath(p);

    protected readonly networks = new Lookup(this.canon);
    protected readonly subnets = new Lookup(this.canon);
    protected readonly clusters = new Lookup(this.canon);
    protected readonly rings = new Lookup(this.canon);
    protected readonly keys = new Lookup(this.canon);
    protected readonly buckets = new Lookup(this.canon);
    protected readonly services = new Lookup(this.canon);
    protected readonly connectors = new Lookup(this.canon);
    protected readonly customRoles = new Lookup(this.canon);
    protected readonly zones = new Lookup(this.canon);
    protected readonly templates = new Lookup(this.canon);
    protected readonly repositories = new Lookup(this.canon);
    protected readonly firewallPolicies = new Lookup(this.canon);
    protected readonly regionFirewallPolicies = new Lookup(this.canon);
    protected readonly hierFirewallPolicies = new Lookup(this.canon);
    protected readonly saByEmail = new Map<string, PolicyResource>();
    protected readonly saByUniqueId = new Map<string, PolicyResource>();
    readonly projectsById = new Map<string, PolicyResource>();
    readonly saByProject = new Map<string, PolicyResource[]>();

    constructor(resources: PolicyResource[]) {
        this.resources = resources;
        for (const r of resources) {
            this.byUrn.set(r.urn, r);
            push(this.byType, r.type, r);
            if (r.type === T.project) {
                const id = str(get(r.props, "projectId"));
                const num = str(get(r.props, "number"));
                if (id && num) {
                    this.projectNumbers.set(num, id);
                }
            }
        }
        for (const r of resources) {
            this.indexResource(r);
        }
    }

    /** Resources of one type (empty when none). */
    of(type: string): PolicyResource[] {
        return this.byType.get(type) ?? [];
    }

    /** Raw props (the analyzer proxy unwrapped). */
    props(r: PolicyResource): Record<string, any> {
        return unwrap(r.props) ?? {};
    }

    /** `projects/<number>/...` -> `projects/<id>/...` for projects of this stack. */
    canonicalPath(path: string): string {
        return path.replace(/^projects\/(\d+)(?=\/|$)/, (m, num: string) => {
            const id = this.projectNumbers.get(num);
            return id ? `projects/${id}` : m;
        });
    }

    /** A project reference (`p`, `projects/p`, a number, a self link) as the project id. */
    canonicalProject(ref: string): string {
        const n = normRef(ref).replace(/^projects\//, "");
        return this.projectNumbers.get(n) ?? n;
    }

    /** The resource's project: its `project` output, else its provider's; UNKNOWN_VALUE when unknown. */
    projectOf(r: PolicyResource): string | typeof UNKNOWN_VALUE | undefined {
        const p = get(r.props, "project");
        if (unknown(p)) {
            return UNKNOWN_VALUE;
        }
        if (typeof p === "string" && p !== "") {
            return this.canonicalProject(p);
        }
        const fromProvider = r.provider ? get(r.provider.props, "project") : undefined;
        return typeof fromProvider === "string" && fromProvider !== "" ? this.canonicalProject(fromProvider) : undefined;
    }

    private indexResource(r: PolicyResource): void {
        const name = str(get(r.props, "name"));
        const project = str(this.projectOf(r));
        const selfLink = str(get(r.props, "selfLink"));
        const id = str(get(r.props, "id"));
        const at = (...parts: (string | undefined)[]): string | undefined => (parts.every((x) => x !== undefined) ? parts.join("/") : undefined);
        const loc = str(get(r.props, "location"));
        const region = str(get(r.props, "region"));
        switch (r.type) {
            case T.network:
                this.networks.add(r, [selfLink, id, at("projects", project, "global/networks", name)], [name], project);
                break;
            case T.subnetwork:
                this.subnets.add(r, [selfLink, id, at("projects", project, "regions", region, "subnetworks", name)], [name], project);
                break;
            case T.cluster:
                this.clusters.add(r, [id, selfLink, at("projects", project, "locations", loc, "clusters", name), at(project, loc, name)], [name], project);
                break;
            case T.keyRing:
                this.rings.add(r, [id, this.ringPath(r), at(project, loc, name)], [name], project);
                break;
            case T.cryptoKey: {
                const path = this.keyPath(r);
                const short = path ? /^projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/([^/]+)\/cryptoKeys\/([^/]+)$/.exec(path) : null;
                this.keys.add(r, [id, path, short ? short.slice(1).join("/") : undefined], []);
                break;
            }
            case T.bucket:
                this.buckets.add(r, [id, selfLink, name ? `b/${name}` : undefined, name ? `projects/_/buckets/${name}` : undefined], [name]);
                break;
            case T.runService:
            case T.runServiceV1:
            case T.runJob:
            case T.runWorkerPool: {
                const kind = r.type === T.runJob ? "jobs" : r.type === T.runWorkerPool ? "workerPools" : "services";
                this.services.add(r, [id, at("projects", project, "locations", loc, kind, name),
                    at("locations", loc, "namespaces", project, kind, name), at(project, loc, name)], [name], project);
                break;
            }
            case T.connector:
                this.connectors.add(r, [id, selfLink, at("projects", project, "locations", region, "connectors", name)], [name], project);
                break;
            case T.instanceTemplate:
            case T.regionInstanceTemplate:
                this.templates.add(r, [id, selfLink, str(get(r.props, "selfLinkUnique")), at("projects", project, "global/instanceTemplates", name),
                    at("projects", project, "regions", region, "instanceTemplates", name)], [name], project);
                break;
            case T.arRepository: {
                const repoId = str(get(r.props, "repositoryId")) ?? name;
                this.repositories.add(r, [id, at("projects", project, "locations", loc, "repositories", repoId), at(project, loc, repoId)], [repoId], project);
                break;
            }
            case T.projectCustomRole:
            case T.orgCustomRole: {
                const roleId = str(get(r.props, "roleId"));
                const parent = r.type === T.projectCustomRole ? at("projects", project) : at("organizations", str(get(r.props, "orgId")));
                this.customRoles.add(r, [name, id, at(parent, "roles", roleId)], []);
                break;
            }
            case T.managedZone:
                this.zones.add(r, [id, at("projects", project, "managedZones", name)], [name], project);
                break;
            case T.firewallPolicy:
            case T.firewallPolicyWithRules:
                // I4: a policy with inline rules is associated exactly like one with separate rule resources.
                this.firewallPolicies.add(r, [id, selfLink, str(get(r.props, "selfLinkWithId")), at("projects", project, "global/firewallPolicies", name)], [name], project);
                break;
            case T.regionFirewallPolicy:
            case T.regionFirewallPolicyWithRules:
                this.regionFirewallPolicies.add(r, [id, selfLink, str(get(r.props, "selfLinkWithId")),
                    at("projects", project, "regions", region, "firewallPolicies", name)], [name], project);
                break;
            case T.hierFirewallPolicy:
            case T.hierFirewallPolicyWithRules: {
                // The policy's name is its numeric id; associations and rules use `locations/global/firewallPolicies/<id>` or the id.
                const pid = str(get(r.props, "firewallPolicyId")) ?? str(get(r.props, "policyId")) ?? name;
                this.hierFirewallPolicies.add(r, [id, selfLink, str(get(r.props, "selfLinkWithId")), at("locations/global/firewallPolicies", pid)], [name, pid]);
                break;
            }
            case T.project: {
                const pid = str(get(r.props, "projectId"));
                if (pid) {
                    this.projectsById.set(pid, r);
                }
                break;
            }
            case T.serviceAccount: {
                for (const email of [str(get(r.props, "email")), this.derivedEmail(r)]) {
                    if (email) {
                        this.saByEmail.set(email.toLowerCase(), r);
                    }
                }
                const uid = str(get(r.props, "uniqueId"));
                if (uid) {
                    this.saByUniqueId.set(uid, r);
                }
                if (project) {
                    push(this.saByProject, project, r);
                }
                break;
            }
        }
    }

    private ringPath(r: PolicyResource): string | undefined {
        const project = str(this.projectOf(r));
        const loc = str(get(r.props, "location"));
        const name = str(get(r.props, "name"));
        return project && loc && name ? `projects/${project}/locations/${loc}/keyRings/${name}` : undefined;
    }

    private keyPath(r: PolicyResource): string | undefined {
        const lit = str(get(r.props, "keyRing"));
        const ring = lit ? this.rings.find(lit)[0] ?? undefined : this.ringOfKey(r).ring;
        const ringPath = ring ? this.ringPath(ring) : lit ? this.expandShortRing(lit) : undefined;
        const name = str(get(r.props, "name"));
        return ringPath && name ? `${this.canonicalPath(normRef(ringPath))}/cryptoKeys/${name}` : undefined;
    }

    /** `{project}/{location}/{ring}` -> the full key ring name. */
    private expandShortRing(ref: string): string {
        const n = normRef(ref);
        const m = /^([^/]+)\/([^/]+)\/([^/]+)$/.exec(n);
        return m && m[1] !== "projects" ? `projects/${m[1]}/locations/${m[2]}/keyRings/${m[3]}` : n;
    }

    /** `<accountId>@<project>.iam.gserviceaccount.com`, known in preview before the email output is. */
    derivedEmail(sa: PolicyResource): string | undefined {
        const accountId = str(get(sa.props, "accountId"));
        const project = str(this.projectOf(sa));
        return accountId && project ? `${accountId}@${project}.iam.gserviceaccount.com` : undefined;
    }

    /** A service account of this stack from an email, `projects/<p>/serviceAccounts/<email>` or unique id. */
    findSa(ref: string): PolicyResource | undefined {
        const n = normRef(ref).toLowerCase();
        const i = n.indexOf("serviceaccounts/");
        const key = i >= 0 ? n.slice(i + "serviceaccounts/".length) : n.replace(/^serviceaccount:/, "");
        return this.saByEmail.get(key) ?? this.saByUniqueId.get(key);
    }

    findNetworks(ref: string, project?: string): PolicyResource[] {
        return this.networks.find(ref, project);
    }

    findSubnets(ref: string, project?: string): PolicyResource[] {
        return this.subnets.find(ref, project);
    }

    findZones(ref: string): PolicyResource[] {
        return this.zones.find(ref);
    }

    findTemplates(ref: string, project?: string): PolicyResource[] {
        return this.templates.find(ref, project);
    }

    findRepositories(ref: string, project?: string): PolicyResource[] {
        return this.repositories.find(ref, project);
    }

    findBuckets(ref: string): PolicyResource[] {
        return this.buckets.find(ref);
    }

    findServices(ref: string, project?: string): PolicyResource[] {
        return this.services.find(ref, project);
    }

    /** Global network firewall policies (with separate or inline rules) by id, self link or name. */
    findFirewallPolicies(ref: string): PolicyResource[] {
        return this.firewallPolicies.find(ref);
    }

    /** Regional network firewall policies by id, self link or name. */
    findRegionFirewallPolicies(ref: string): PolicyResource[] {
        return this.regionFirewallPolicies.find(ref);
    }

    /** Hierarchical (organization / folder) firewall policies by id, self link or numeric name. */
    findHierFirewallPolicies(ref: string): PolicyResource[] {
        return this.hierFirewallPolicies.find(ref);
    }

    /** The key ring of a crypto key: by its `keyRing` literal (any spelling) or its dependency. */
    ringOfKey(key: PolicyResource): { ring?: PolicyResource; literal?: string } {
        const lit = get(key.props, "keyRing");
        const res = resolveRef(key, "keyRing", lit, [T.keyRing], (ref) => {
            const direct = this.rings.find(ref);
            return direct.length > 0 ? direct : this.rings.find(this.expandShortRing(ref));
        });
        return { ring: res.found[0], literal: str(lit) };
    }

    /** The project a crypto key lives in (key ring project, or parsed from the key ring id). */
    keyProject(key: PolicyResource): string | typeof UNKNOWN_VALUE {
        const { ring, literal } = this.ringOfKey(key);
        if (ring) {
            const p = this.projectOf(ring);
            if (typeof p === "string") {
                return p;
            }
        }
        const m = literal ? /(?:^|\/)projects\/([^/]+)\//.exec(this.expandShortRing(literal)) : null;
        return m ? this.canonicalProject(m[1]) : UNKNOWN_VALUE;
    }

    /** Finds crypto keys by any spelling (full, short, self link). */
    findKeys(ref: string): PolicyResource[] {
        const direct = this.keys.find(ref);
        if (direct.length > 0) {
            return direct;
        }
        const m = /^([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(normRef(ref));
        return m && m[1] !== "projects" ? this.keys.find(`projects/${m[1]}/locations/${m[2]}/keyRings/${m[3]}/cryptoKeys/${m[4]}`) : [];
    }

    findRings(ref: string): PolicyResource[] {
        const direct = this.rings.find(ref);
        return direct.length > 0 ? direct : this.rings.find(this.expandShortRing(ref));
    }
}
