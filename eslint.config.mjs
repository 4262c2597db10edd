// Flat config: typescript-eslint recommended rules over the TypeScript sources, plus the two
// CommonJS entry shims (bin/, bench/run.js) with Node globals.
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

const nodeGlobals = { require: "readonly", module: "writable", process: "readonly", __dirname: "readonly", console: "readonly" };

export default tseslint.config(
    { ignores: ["node_modules/**", "dist/**", "**/*.mjs", "**/*.js", "!bin/*.js", "!bench/*.js"] },
    eslint.configs.recommended,
    ...tseslint.configs.recommended,
    {
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "@typescript-eslint/no-explicit-any": "off",
        },
    },
    {
        files: ["bin/*.js", "bench/*.js"],
        languageOptions: { sourceType: "commonjs", globals: nodeGlobals },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
