/**
 * How deeply nested a parsed JSON value is, counted without recursion, and the limit every service
 * applies to request bodies. JSON.parse accepts any depth, but JSON.stringify, schema validators and
 * loggers recurse: a body nested a few thousand levels deep overflowed the stack later (a 500). A
 * service refuses it with a 400 before anything else looks at it.
 */

/** Deepest nesting any service accepts (a statement or a GitHub event needs fewer than 10). */
export const MAX_JSON_DEPTH = 64;

/** True when `value` nests objects or arrays more than `max` levels deep. */
export function tooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
    const stack: [unknown, number][] = [[value, 1]];
    while (stack.length > 0) {
        const [v, depth] = stack.pop()!;
        if (v === null || typeof v !== "object") {
            continue;
        }
        if (depth > max) {
            return true;
        }
        for (const child of Array.isArray(v) ? v : Object.values(v)) {
            if (child !== null && typeof child === "object") {
                stack.push([child, depth + 1]);
            }
        }
    }
    return false;
}
