/**
 * Types of the offline evaluation engine: one captured Pulumi resource graph, and the
 * violations a policy pack reports on it. Shared by tests, the `plan` command and the benchmark.
 */

/** The string the Pulumi engine uses on the wire for a value unknown during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Type token of the root stack resource. */
export const STACK_TYPE = "pulumi:pulumi:Stack";

/** The provider URN in a provider reference `<providerUrn>::<providerId>`. */
export function providerUrnOf(providerRef: string | undefined): string | undefined {
    return providerRef ? providerRef.split("::").slice(0, -1).join("::") : undefined;
}

/** One resource as the engine saw it register (component, custom resource, provider or stack). */
export interface CapturedResource {
    urn: string;
    type: string;
    name: string;
    /** true for custom (provider-managed) resources, false for components and the stack. */
    custom: boolean;
    /** Provider id; empty for components. Equal to UNKNOWN in preview mode. */
    id: string;
    /**
     * Inputs as plain JS: secrets unwrapped, resource references as URN strings, and values that
     * were unknown at registration (preview mode) equal to the `UNKNOWN` sentinel.
     */
    inputs: Record<string, any>;
    /** Outputs (state) the mocked provider returned, in the same plain form. */
    outputs: Record<string, any>;
    /** The inputs in Pulumi wire form (secret and unknown sentinels kept), as the analyzer receives them. */
    wireInputs: Record<string, any>;
    /** The outputs in Pulumi wire form. */
    wireOutputs: Record<string, any>;
    /** URN of the parent; undefined only for the stack resource. */
    parent?: string;
    /** URNs this resource depends on (explicit dependsOn and every input's dependencies). */
    dependencies: string[];
    /** Per input property, the URNs it was computed from. */
    propertyDependencies: Record<string, string[]>;
    /** Provider reference `<providerUrn>::<providerId>`, if any. */
    provider?: string;
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    additionalSecretOutputs: string[];
    aliases: string[];
}

/** One data-source (invoke) call the program made. */
export interface CapturedInvoke {
    token: string;
    args: Record<string, any>;
}

/** A log line the program emitted through `pulumi.log`. */
export interface CapturedLog {
    severity: "debug" | "info" | "warning" | "error";
    message: string;
}

/** The result of running a program under the engine's mocks. */
export interface ProgramRun {
    project: string;
    stack: string;
    preview: boolean;
    /** Every registered resource, in registration order (the stack resource first). */
    resources: CapturedResource[];
    byUrn: Map<string, CapturedResource>;
    /** Stack outputs (plain form). */
    outputs: Record<string, any>;
    invokes: CapturedInvoke[];
    logs: CapturedLog[];
    /** Set when the program threw and `allowError` was passed; otherwise runProgram rejects. */
    error?: unknown;
}

export type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";

/** One policy finding, as the CrossGuard analyzer would report it. */
export interface Violation {
    policy: string;
    enforcementLevel: Exclude<EnforcementLevel, "disabled">;
    message: string;
    /** URN of the offending resource; undefined for a stack-level finding with no resource. */
    urn?: string;
}

/** A policy that reported itself not applicable, with its reason. */
export interface NotApplicable {
    policy: string;
    reason: string;
    urn?: string;
}

export interface Evaluation {
    violations: Violation[];
    notApplicable: NotApplicable[];
    /** Policy-config warnings (unknown policy names or properties, ESC environments not opened offline). */
    warnings?: string[];
    /**
     * How the engine ran the analyzer (see EvaluateOptions.shortcuts): "shared" (one read-only copy
     * of each resource's properties and one stack array for every policy), "repeated" (a policy
     * wrote to them, so the evaluation was repeated with private copies) or "off".
     */
    shortcuts?: "shared" | "repeated" | "off";
}
