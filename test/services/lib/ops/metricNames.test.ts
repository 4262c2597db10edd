/**
 * The metric names are a contract with the dashboards and alert policies: the table in
 * docs/operations.md and METRICS in services/lib/ops/metricNames.ts must name the same metrics,
 * with the same kind, unit, labels and services.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { METRICS, metricType } from "../../../../services/lib/ops/metricNames";
import { REPO_ROOT } from "../../../helpers/paths";

const PAGE = fs.readFileSync(path.join(REPO_ROOT, "docs", "operations.md"), "utf8");

/** The rows of the page's metrics table: name, kind, unit, labels, services. */
function documented(): Map<string, { kind: string; unit: string; labels: string[]; services: string[] }> {
    const rows = PAGE.split("\n")
        .filter((l) => l.startsWith("| `hardened_build_fleet."))
        .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
    const ticks = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const services = (cell: string) => (cell === "all" ? ["broker", "webhook", "generator", "signer"] : cell.split(",").map((s) => s.trim()));
    return new Map(rows.map((r) => [ticks(r[0])[0], { kind: r[1], unit: r[2], labels: ticks(r[3]), services: services(r[4]) }]));
}

describe("metric names: the documented table is the code's", () => {
    it("every metric in METRICS is documented with its kind, unit, labels and services, and nothing else is", () => {
        const docs = documented();
        const code = Object.values(METRICS);
        assert.deepStrictEqual([...docs.keys()].sort(), code.map((m) => m.name).sort());
        for (const m of code) {
            assert.deepStrictEqual(docs.get(m.name), { kind: m.kind, unit: m.unit, labels: [...m.labels], services: [...m.services] }, m.name);
        }
    });

    it("names are valid OpenTelemetry instrument names and label keys survive the exporter unchanged", () => {
        for (const m of Object.values(METRICS)) {
            assert.match(m.name, /^[a-z][a-z0-9_.]{0,254}$/, m.name);
            for (const label of m.labels) {
                // The exporter replaces anything but letters, digits and "_" in label keys.
                assert.match(label, /^[a-z_][a-z0-9_]*$/, `${m.name}: ${label}`);
            }
        }
        assert.strictEqual(metricType("signatures"), "workload.googleapis.com/hardened_build_fleet.signatures");
    });
});
