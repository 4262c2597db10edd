/**
 * Stable names: the URNs (qualified type and name) of the example stack, compared with a committed
 * snapshot. A URN is a resource's identity in Pulumi state: when it changes, `pulumi up` deletes the
 * resource under its old URN and creates a new one, which for this fleet means new KMS key rings,
 * buckets, networks and clusters. Renames must come with `aliases`.
 *
 * Update after an intended change: UPDATE_SNAPSHOTS=1 npx mocha test/components/fleet/snapshot.test.ts
 */
import { REPO_ROOT } from "../../helpers/paths";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { runProgram } from "../../../plan/engine";
import { urnSuffix } from "../../helpers/graph";

const ROOT = REPO_ROOT;
const SNAPSHOT = path.join(__dirname, "__snapshots__", "fleet-urns.txt");
const UPDATE_COMMAND = "UPDATE_SNAPSHOTS=1 npx mocha test/components/fleet/snapshot.test.ts";
const HEADER = [
    "# URNs of the example stack (index.ts + Pulumi.example.yaml) below the stack resource, without the",
    "# `urn:pulumi:<stack>::<project>::` prefix: `<parent types>$<type>::<name>`, sorted.",
    "# A changed line means `pulumi up` would replace a live resource: keep names stable, or add `aliases`.",
    `# Regenerate after an intended change: ${UPDATE_COMMAND}`,
];

function readSnapshot(): string[] | undefined {
    if (!fs.existsSync(SNAPSHOT)) {
        return undefined;
    }
    return fs.readFileSync(SNAPSHOT, "utf8").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
}

function explain(removed: string[], added: string[]): string {
    const list = (title: string, urns: string[]) => (urns.length === 0 ? [] : [`${title} (${urns.length}):`, ...urns.map((u) => `    ${u}`)]);
    return [
        "The fleet's URNs changed. A URN is a resource's identity in Pulumi state: for every URN that",
        "disappears, `pulumi up` on an existing stack DELETES the live resource, and CREATES the resource",
        "under its new URN (a replacement: new key rings and keys, emptied buckets, new networks and clusters).",
        "If the change is a rename (of a resource, a component, a parent, or a type token), keep the old",
        "identity with `aliases` on the new resource, e.g. `{ parent: this, aliases: [{ name: \"<old name>\" }] }`",
        "(or `aliases: [{ type: \"<old type>\" }]`, `aliases: [{ parent: <old parent> }]`), so Pulumi moves state",
        "instead of replacing. If the change is intended (new or removed resources), update the snapshot:",
        `    ${UPDATE_COMMAND}`,
        ...list("  URNs gone (would be deleted)", removed),
        ...list("  URNs new (would be created)", added),
    ].join("\n");
}

describe("HardenedBuildFleet: stable URNs of the example stack", function () {
    this.timeout(60_000);

    it(`matches the committed snapshot (${path.relative(ROOT, SNAPSHOT)})`, async () => {
        const run = await runProgram(path.join(ROOT, "index.ts"), { configFile: path.join(ROOT, "Pulumi.example.yaml") });
        const urns = run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => urnSuffix(r.urn));
        const duplicates = urns.filter((u, i) => urns.indexOf(u) !== i);
        assert.deepStrictEqual(duplicates, [], "duplicate URNs: Pulumi rejects the second registration");
        const current = [...urns].sort();

        if (process.env.UPDATE_SNAPSHOTS === "1") {
            fs.mkdirSync(path.dirname(SNAPSHOT), { recursive: true });
            fs.writeFileSync(SNAPSHOT, [...HEADER, ...current, ""].join("\n"));
            return;
        }
        const committed = readSnapshot();
        assert.ok(committed !== undefined, `no snapshot at ${path.relative(ROOT, SNAPSHOT)}; create it with ${UPDATE_COMMAND}`);
        const removed = committed.filter((u) => !current.includes(u));
        const added = current.filter((u) => !committed.includes(u));
        if (removed.length > 0 || added.length > 0) {
            assert.fail(explain(removed, added));
        }
        // Same set; the file is kept sorted so that diffs in review are readable.
        assert.deepStrictEqual(committed, current, `the snapshot file is not sorted; regenerate it with ${UPDATE_COMMAND}`);
    });
});
