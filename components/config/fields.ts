/** Typed reads of raw config fields that record an issue instead of throwing. */
import { childPath, IssueCollector } from "./issues";
import { suggestion } from "./names";
import { CONFIG_NAMESPACE } from "./schema";

/** A config object before validation. */
export type RawObject = Record<string, unknown>;

export function isRawObject(value: unknown): value is RawObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** "string", "number", "array", "object", "null", ... for messages. */
export function typeName(value: unknown): string {
    if (value === null) {
        return "null";
    }
    return Array.isArray(value) ? "array" : typeof value;
}

interface FieldOptions {
    /** A valid value, shown in fixes. */
    example: string;
    required?: boolean;
}

interface IntegerOptions extends FieldOptions {
    min: number;
    max?: number;
}

/** Reads the fields of one raw object at `path`, recording issues in `issues`. */
export class FieldReader {
    constructor(readonly issues: IssueCollector, readonly raw: RawObject, readonly path: string) {}

    pathOf(key: string): string {
        return childPath(this.path, key);
    }

    /** The value, with YAML's empty `key:` (null) treated as unset. */
    value(key: string): unknown {
        const v = this.raw[key];
        return v === null ? undefined : v;
    }

    has(key: string): boolean {
        return this.value(key) !== undefined;
    }

    /** Records every key not in `allowed`, with a "did you mean" when one is close. */
    checkKeys(allowed: readonly string[]): void {
        for (const key of Object.keys(this.raw)) {
            if (!allowed.includes(key)) {
                const where = this.path === "" ? `${CONFIG_NAMESPACE}:` : `${CONFIG_NAMESPACE}:${this.path}`;
                this.issues.add(this.pathOf(key), this.raw[key], "unknown key", `${suggestion(key, allowed, `keys valid in ${where}`)} (or remove it)`);
            }
        }
    }

    missing(key: string, example: string): void {
        const structured = example.startsWith("{") || example.startsWith("[");
        const fix = this.path !== ""
            ? `add \`${key}: ${example}\` to ${CONFIG_NAMESPACE}:${this.path}`
            : structured
                ? `add \`${CONFIG_NAMESPACE}:${key}: ${example}\` under config: in Pulumi.<stack>.yaml`
                : `run \`pulumi config set ${CONFIG_NAMESPACE}:${key} ${example}\``;
        this.issues.add(this.pathOf(key), undefined, "required field is missing", fix);
    }

    wrongType(key: string, expected: string, example: string): void {
        const value = this.value(key);
        this.issues.add(this.pathOf(key), value, `expected ${expected}, got ${typeName(value)}`, `use ${expected}, e.g. \`${key}: ${example}\``);
    }

    string(key: string, opts: FieldOptions): string | undefined {
        const value = this.value(key);
        if (value === undefined) {
            if (opts.required) {
                this.missing(key, opts.example);
            }
            return undefined;
        }
        if (typeof value !== "string") {
            this.wrongType(key, "a string", opts.example);
            return undefined;
        }
        if (value.trim() === "") {
            this.issues.add(this.pathOf(key), value, "must not be empty", `set it, e.g. \`${key}: ${opts.example}\``);
            return undefined;
        }
        return value;
    }

    boolean(key: string, fallback: boolean): boolean {
        const value = this.value(key);
        if (value === undefined) {
            return fallback;
        }
        if (typeof value !== "boolean") {
            this.wrongType(key, "a boolean", String(!fallback));
            return fallback;
        }
        return value;
    }

    integer(key: string, opts: IntegerOptions): number | undefined {
        const value = this.value(key);
        if (value === undefined) {
            if (opts.required) {
                this.missing(key, opts.example);
            }
            return undefined;
        }
        const bounds = opts.max === undefined ? `>= ${opts.min}` : `between ${opts.min} and ${opts.max}`;
        if (typeof value !== "number" || !Number.isInteger(value)) {
            this.wrongType(key, `an integer ${bounds}`, opts.example);
            return undefined;
        }
        if (value < opts.min || (opts.max !== undefined && value > opts.max)) {
            this.issues.add(this.pathOf(key), value, `must be an integer ${bounds}`, `use e.g. \`${key}: ${opts.example}\``);
            return undefined;
        }
        return value;
    }

    object(key: string, opts: FieldOptions): RawObject | undefined {
        const value = this.value(key);
        if (value === undefined) {
            if (opts.required) {
                this.missing(key, opts.example);
            }
            return undefined;
        }
        if (!isRawObject(value)) {
            this.wrongType(key, "an object", opts.example);
            return undefined;
        }
        return value;
    }

    array(key: string, opts: FieldOptions): unknown[] | undefined {
        const value = this.value(key);
        if (value === undefined) {
            if (opts.required) {
                this.missing(key, opts.example);
            }
            return undefined;
        }
        if (!Array.isArray(value)) {
            this.wrongType(key, "a list", opts.example);
            return undefined;
        }
        return value;
    }

    /** A list of strings; non-string items are reported and dropped. */
    stringArray(key: string, example: string): string[] {
        const items = this.array(key, { example: `[${example}]` }) ?? [];
        const strings: string[] = [];
        items.forEach((item, i) => {
            if (typeof item === "string") {
                strings.push(item);
            } else {
                this.issues.add(`${this.pathOf(key)}[${i}]`, item, `expected a string, got ${typeName(item)}`, `write it as a string, e.g. ${example}`);
            }
        });
        return strings;
    }
}
