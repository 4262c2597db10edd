/** ESM-only packages from these CommonJS tests: the services' own loader. */
export { importEsm } from "../../services/lib/esm";
