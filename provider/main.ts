/**
 * The plugin entry the Pulumi Node.js language host runs (PulumiPlugin.yaml): serves the facade
 * components over the provider protocol, with the refined schema (refine.ts). Exports nothing, so the host
 * does not look for components itself.
 */
import { main } from "@pulumi/pulumi/provider";
import { createComponentProvider } from "./index";

main(createComponentProvider(), process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
});
