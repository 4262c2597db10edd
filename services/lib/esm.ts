/**
 * Loads an ESM-only package from CommonJS code. TypeScript's `module: commonjs` output turns
 * `import()` into `require()`, which cannot resolve packages whose exports offer only `import`, so
 * the native dynamic import is reached through a Function the compiler does not rewrite.
 */
const nativeImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<any>;

export function importEsm<T = any>(specifier: string): Promise<T> {
    return nativeImport(specifier);
}
