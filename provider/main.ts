/**
 * The plugin entry the Pulumi Node.js language host runs (PulumiPlugin.yaml): serves the facade
 * components over the provider protocol. Exports nothing, so the host does not look for components itself.
 */
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { PROVIDER_OPTIONS } from "./index";

componentProviderHost({ ...PROVIDER_OPTIONS }).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
});
