/**
 * Ordering the fleet adds across component boundaries, as resource transformations on a child
 * component: its resources of a given type also depend on resources another component created.
 */
import * as pulumi from "@pulumi/pulumi";

/** Resources of `type` under the component wait for `deps` (no-op when `deps` is empty). */
export function orderAfter(type: string, deps: pulumi.Resource[]): pulumi.ResourceTransformation {
    return ({ type: t, props, opts }) => (t === type && deps.length > 0 ? { props, opts: pulumi.mergeOptions(opts, { dependsOn: deps }) } : undefined);
}
