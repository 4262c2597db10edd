/**
 * One deserialized copy of each resource's properties per evaluation, shared by every policy.
 *
 * The CrossGuard analyzer deserializes a resource's properties again for every stack policy and for
 * every validation of every resource policy, and builds the linked resources array again for every
 * stack policy: at 100 pools that is over 100,000 deep copies, most of an evaluation's time and
 * garbage. Inside a sharing scope the engine deserializes each property object once, with the
 * analyzer's own deserializer (secrets and unknowns come out as they would), and every policy reads
 * that copy; evaluate.ts shares the stack array the same way.
 *
 * The CLI gives each policy its own copy, which a policy may write to. So after the evaluation every
 * shared copy is compared with the wire value it came from, and the shared stack array with a record
 * of it taken before any policy ran: a write, delete, addition, reordering, freeze or seal anywhere
 * marks the scope `written`, and the engine evaluates again without sharing, so the pack sees exactly
 * what the CLI would give it. Properties holding anything but plain data (assets, archives) are never
 * shared (`unshareable`).
 */
import { AsyncLocalStorage } from "async_hooks";
import { policyDeserialize } from "./sdk";

type Struct = { toJavaScript(): Record<string, unknown> };

// The wire form's signature key and the secret signature (@pulumi/pulumi runtime/rpc).
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface SharingScope {
    /** Set when some properties held assets or archives: they were copied per policy, as the analyzer does. */
    unshareable: boolean;
    /** Records `root` (and every object under it, the analyzer's props proxies excepted) for `written()`. */
    record(root: object): void;
    /** True when a policy changed a shared copy or a recorded object. */
    written(): boolean;
}

interface Scope extends SharingScope {
    // Plain maps: a scope lives for one evaluation.
    copies: Map<object, Record<string, unknown> | null>;
    snapshots: Snapshot[];
}

const storage = new AsyncLocalStorage<Scope>();
const original = policyDeserialize.deserializeProperties;

function isPlainTree(v: unknown): boolean {
    if (v === null || typeof v !== "object") {
        return typeof v !== "function";
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
        return false;
    }
    for (const e of Array.isArray(v) ? v : Object.values(v)) {
        if (!isPlainTree(e)) {
            return false;
        }
    }
    return true;
}

/** True when `copy` is still what the analyzer's deserializer made of `wire` (secrets unwrapped). */
function sameAsWire(copy: unknown, wire: unknown): boolean {
    if (wire === null || typeof wire !== "object") {
        return copy === wire;
    }
    if (!Array.isArray(wire) && (wire as Record<string, unknown>)[SIG] === SECRET_SIG) {
        return sameAsWire(copy, (wire as Record<string, unknown>).value);
    }
    if (copy === null || typeof copy !== "object" || !Object.isExtensible(copy)) {
        return false;
    }
    const own = Reflect.ownKeys(copy);
    if (Array.isArray(wire)) {
        if (!Array.isArray(copy) || Object.getPrototypeOf(copy) !== Array.prototype || copy.length !== wire.length || own.length !== wire.length + 1) {
            return false;
        }
        for (let i = 0; i < wire.length; i++) {
            if (!(i in copy) || !sameAsWire(copy[i], wire[i])) {
                return false;
            }
        }
        return true;
    }
    const keys = Object.keys(wire);
    if (Object.getPrototypeOf(copy) !== Object.prototype || own.length !== keys.length) {
        return false;
    }
    for (let i = 0; i < keys.length; i++) {
        if (own[i] !== keys[i] || !sameAsWire((copy as Record<string, unknown>)[keys[i]], (wire as Record<string, unknown>)[keys[i]])) {
            return false;
        }
    }
    return true;
}

/**
 * Every object under a root with its keys (an array: its elements), values and extensibility, to
 * compare later. A `props` value is the analyzer's proxy over a shared copy, which is checked
 * against its wire form instead.
 */
export class Snapshot {
    private readonly objects: object[] = [];
    private readonly extensible: boolean[] = [];
    /** Per object: its key count, then key, value pairs (flat, in own-key order); per array: its length, then its elements. */
    private readonly entries: unknown[] = [];

    constructor(root: object) {
        const seen = new Set<object>([root]);
        const todo: object[] = [root];
        const visit = (k: PropertyKey, v: unknown) => {
            if (v !== null && typeof v === "object" && k !== "props" && !seen.has(v)) {
                seen.add(v);
                todo.push(v);
            }
        };
        while (todo.length > 0) {
            const o = todo.pop()!;
            this.objects.push(o);
            this.extensible.push(Object.isExtensible(o));
            if (Array.isArray(o)) {
                this.entries.push(o.length);
                for (let i = 0; i < o.length; i++) {
                    this.entries.push(o[i]);
                    visit(i, o[i]);
                }
                continue;
            }
            const keys = Reflect.ownKeys(o);
            this.entries.push(keys.length);
            for (const k of keys) {
                const v = (o as Record<PropertyKey, unknown>)[k];
                this.entries.push(k, v);
                visit(k, v);
            }
        }
    }

    unchanged(): boolean {
        let at = 0;
        for (let i = 0; i < this.objects.length; i++) {
            const o = this.objects[i];
            if (Object.isExtensible(o) !== this.extensible[i]) {
                return false;
            }
            if (Array.isArray(o)) {
                if (o.length !== this.entries[at++]) {
                    return false;
                }
                for (let j = 0; j < o.length; j++) {
                    if (o[j] !== this.entries[at++]) {
                        return false;
                    }
                }
                continue;
            }
            const keys = Reflect.ownKeys(o);
            if (keys.length !== this.entries[at++]) {
                return false;
            }
            for (const k of keys) {
                if (k !== this.entries[at++] || (o as Record<PropertyKey, unknown>)[k] !== this.entries[at++]) {
                    return false;
                }
            }
        }
        return true;
    }
}

function newScope(): Scope {
    const scope: Scope = {
        unshareable: false,
        copies: new Map(),
        snapshots: [],
        record: (root) => void scope.snapshots.push(new Snapshot(root)),
        written: () => {
            for (const [wire, copy] of scope.copies) {
                if (copy !== null && !sameAsWire(copy, wire)) {
                    return true;
                }
            }
            return !scope.snapshots.every((s) => s.unchanged());
        },
    };
    return scope;
}

/** The analyzer's deserializer, answering from the open scope's cache when there is one. */
function deserializeShared(struct: Struct, proxySecrets: boolean): Record<string, unknown> {
    const scope = storage.getStore();
    if (!scope || proxySecrets) {
        return original(struct, proxySecrets);
    }
    // The engine's requests return the same plain object for a resource on every call; a real
    // protobuf Struct returns a new one, which simply never hits.
    const plain = struct.toJavaScript();
    const cached = scope.copies.get(plain);
    if (cached !== undefined) {
        return cached ?? original({ toJavaScript: () => plain }, false);
    }
    const fresh = original({ toJavaScript: () => plain }, false);
    const shareable = isPlainTree(fresh);
    scope.copies.set(plain, shareable ? fresh : null);
    scope.unshareable ||= !shareable;
    return fresh;
}

// Installed when this module loads; outside a scope it is the analyzer's own function.
policyDeserialize.deserializeProperties = deserializeShared;

/** Runs `fn` with property sharing on for every analyzer call it makes (async context included). */
export function withSharedProps<T>(fn: (scope: SharingScope) => Promise<T>): Promise<T> {
    const scope = newScope();
    return storage.run(scope, () => fn(scope));
}
