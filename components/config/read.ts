/** Reading the fleet config from Pulumi stack config. */
import * as pulumi from "@pulumi/pulumi";
import { allConfig } from "@pulumi/pulumi/runtime";
import { rawFleetConfig, RawFleetConfig } from "./input";
import { FleetConfigError } from "./issues";
import { FleetConfig } from "./types";
import { CONFIG_NAMESPACE, ConfigKeyKind, FLEET_CONFIG_SCHEMA, FleetConfigKey } from "./schema";
import { validateFleetConfig } from "./validate";

/** Stack config stores structured values as JSON strings; decode what parses, keep the rest as given. */
function decodeLoose(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

function readKey(config: pulumi.Config, key: string, kind: ConfigKeyKind): unknown {
    const text = config.get(key);
    if (text === undefined) {
        return undefined;
    }
    switch (kind) {
        case "string":
            // Pulumi.yaml declares optional string keys with `default: ""`, meaning "not set".
            return text === "" ? undefined : text;
        case "boolean":
            // Left as a string when not a boolean, so the validator reports it with the others.
            return text === "true" ? true : text === "false" ? false : text;
        case "object":
        case "array":
            try {
                return config.getObject<unknown>(key);
            } catch {
                return text;
            }
    }
}

/**
 * The raw `hardened-build-fleet:*` keys (namespace stripped), with `gcp:region` / `gcp:project`
 * standing in for region / workerProject. Unknown keys are included so the validator reports them.
 */
export function readRawFleetConfig(): RawFleetConfig {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const raw: Record<string, unknown> = {};
    for (const [key, kind] of Object.entries(FLEET_CONFIG_SCHEMA) as [FleetConfigKey, ConfigKeyKind][]) {
        const value = readKey(config, key, kind);
        if (value !== undefined) {
            raw[key] = value;
        }
    }
    const prefix = `${CONFIG_NAMESPACE}:`;
    for (const [fullKey, text] of Object.entries(allConfig())) {
        const key = fullKey.slice(prefix.length);
        if (fullKey.startsWith(prefix) && !(key in FLEET_CONFIG_SCHEMA)) {
            raw[key] = decodeLoose(text);
        }
    }
    const gcp = new pulumi.Config("gcp");
    for (const [key, fallback] of [["region", "region"], ["workerProject", "project"]] as const) {
        const value = gcp.get(fallback);
        if (raw[key] === undefined && value !== undefined && value !== "") {
            raw[key] = value;
        }
    }
    return rawFleetConfig(raw);
}

/**
 * Reads `hardened-build-fleet:*` (plus gcp:project / gcp:region fallbacks) from pulumi.Config,
 * throws FleetConfigError listing every issue, logs warnings with pulumi.log.warn.
 * Call it before creating any resource: an invalid config then registers nothing.
 */
export function readFleetConfig(): FleetConfig {
    const result = validateFleetConfig(readRawFleetConfig());
    for (const warning of result.warnings) {
        pulumi.log.warn(warning);
    }
    if (result.config === undefined) {
        throw new FleetConfigError(result.issues);
    }
    return result.config;
}
