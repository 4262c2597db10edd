/**
 * Manifests the pack cannot see (fail closed, never silence): a `yaml` / `yaml/v2` ConfigGroup or
 * ConfigFile, a Helm Chart or a Kustomize Directory whose objects are not in the stack. Under the Pulumi CLI the provider
 * registers those objects as child resources and every rule sees them; the offline engine expands
 * inline YAML, objects and local files itself, and marks what it cannot expand (remote URLs, globs
 * that match nothing, charts it cannot render) in the component's `unexpanded` output.
 */
import { FleetStackPolicy } from "../../meta";
import { unwrap } from "../../model/props";
import { k8sStackRule } from "../../framework/kubernetesRule";

export const MANIFEST_TYPES: readonly string[] = [
    "kubernetes:yaml:ConfigGroup", "kubernetes:yaml:ConfigFile",
    "kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile",
    "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v4:Chart",
    "kubernetes:kustomize:Directory", "kubernetes:kustomize/v2:Directory",
];

export const k8sManifestsVisible: FleetStackPolicy = k8sStackRule({
    name: "k8s-manifests-visible",
    description:
        "[I6] Every Kubernetes object a ConfigGroup, ConfigFile or Helm Chart creates is in the stack for the other rules to judge; " +
        "a manifest whose objects cannot be seen (remote URL, unmatched glob, unrenderable chart) is reported, never passed.",
    enforcementLevel: "advisory",
    meta: {
        checks: "every `yaml`/`yaml/v2` ConfigGroup or ConfigFile, Helm Chart and Kustomize Directory has its objects in the stack; what the offline engine cannot expand (remote URLs, unmatched globs, missing files, charts other than `gha-runner-scale-set`, unknown inputs in a preview) is reported as an advisory naming the component",
        invariants: ["I6"],
        fix: "Vendor remote manifests into the repository (a local file or inline YAML), or render the chart into objects the stack declares.",
    },
    check: (_m, report, args) => {
        const parents = new Set(args.resources.map((r) => r.parent?.urn).filter((u): u is string => u !== undefined));
        for (const r of args.resources) {
            if (!MANIFEST_TYPES.includes(r.type)) {
                continue;
            }
            const gaps = (unwrap(r.props) as Record<string, any> | undefined)?.unexpanded;
            if (Array.isArray(gaps) && gaps.length > 0) {
                report.advisory(`cannot decide: ${r.type} ${r.name} creates objects the pack cannot see: ${gaps.join("; ")}.`, r.urn);
            } else if (!parents.has(r.urn)) {
                report.advisory(`cannot decide: ${r.type} ${r.name} has no objects in the stack, so nothing it creates was checked.`, r.urn);
            }
        }
    },
});
