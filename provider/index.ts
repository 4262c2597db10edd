/**
 * The component provider facade: schema-friendly classes over the TypeScript components, so that
 * `pulumi package add` can generate SDKs for Python, Go, .NET and YAML. Enums and types come first:
 * the schema analyzer reads their descriptions before it meets the components that use them.
 */
export * from "./enums";
export * from "./types";

import * as path from "path";
import { ComponentProvider, ComponentResourceConstructor } from "@pulumi/pulumi/provider/experimental";
import { RefinedComponentProvider } from "./refine";
import { ControlPlane } from "./controlPlane";
import { FleetPerimeter } from "./fleetPerimeter";
import { OrgGuardrails } from "./orgGuardrails";
import { ServiceImage } from "./serviceImage";
import { HardenedBuildFleet } from "./fleet";
import { IsolatedNetwork } from "./isolatedNetwork";
import { RunnerPool } from "./runnerPool";
import { SignerEnclave } from "./signerEnclave";

export * from "./fleet";
export * from "./runnerPool";
export * from "./signerEnclave";
export * from "./controlPlane";
export * from "./isolatedNetwork";
export * from "./fleetPerimeter";
export * from "./orgGuardrails";
export * from "./serviceImage";

/** The package name: the first part of every type token (`hardened-build-fleet:index:<Component>`). */
export const PROVIDER_NAME = "hardened-build-fleet";

/** Every component the provider serves. */
export const PROVIDER_COMPONENTS: ComponentResourceConstructor[] = [
    HardenedBuildFleet, RunnerPool, SignerEnclave, ControlPlane, IsolatedNetwork, FleetPerimeter, OrgGuardrails, ServiceImage,
];

/** The provider options: this directory holds the package.json and tsconfig.json the schema analyzer reads. */
export const PROVIDER_OPTIONS = { name: PROVIDER_NAME, dirname: path.resolve(__dirname), components: PROVIDER_COMPONENTS };

/** A ComponentProvider over the facade (getSchema, construct) serving the refined schema (refine.ts): the plugin, the schema script and tests. */
export function createComponentProvider(): ComponentProvider {
    return new RefinedComponentProvider({ ...PROVIDER_OPTIONS });
}
