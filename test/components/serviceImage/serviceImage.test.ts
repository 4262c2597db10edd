/**
 * ServiceImage and the image itself: built from this package's services/Dockerfile (never during a
 * preview), pushed to an immutable-tag Artifact Registry repository, referenced by digest; the Dockerfile's
 * base images are digest-pinned; services/main.ts starts the service named by argv or SERVICE.
 */
import { REPO_ROOT } from "../../helpers/paths";
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgramRun, runProgram, UNKNOWN } from "../../../plan/engine";
import {
    ACCESS_TOKEN_USER, buildTag, IMAGE_READER_ROLE, packageRoot, SERVICE_SOURCES, ServiceImage, sourceHash, validateServiceImageArgs,
} from "../../../components/serviceImage";
import { reportInputs, SECRET_MASK } from "../../../plan/report/inputs";
import { isDigestPinnedImage } from "../../../components/config/image";
import { run as runServices, selectService, SERVICES } from "../../../services/main";
import { byType, one } from "../../helpers/graph";

const ROOT = REPO_ROOT;
const T = {
    repo: "gcp:artifactregistry/repository:Repository",
    image: "docker-build:index:Image",
    reader: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
};
const READER = "serviceAccount:service-123@serverless-robot-prod.iam.gserviceaccount.com";

async function build(preview = false): Promise<ProgramRun> {
    return runProgram(() => {
        const img = new ServiceImage("fleet-images", { project: "cp-proj", region: "europe-west1", readers: [READER] });
        return { imageRef: img.imageRef };
    }, { preview });
}

describe("ServiceImage", function () {
    this.timeout(60000);

    it("builds services/Dockerfile from the package root, pushes it, never during a preview, and references it by digest", async () => {
        const run = await build();
        const repo = one(run, T.repo);
        assert.deepStrictEqual([repo.inputs.project, repo.inputs.location, repo.inputs.format, repo.inputs.dockerConfig], ["cp-proj", "europe-west1", "DOCKER", { immutableTags: true }]);
        const image = one(run, T.image);
        assert.strictEqual(image.inputs.context.location, ROOT);
        assert.strictEqual(image.inputs.dockerfile.location, path.join(ROOT, "services", "Dockerfile"));
        assert.strictEqual(image.inputs.push, true);
        assert.strictEqual(image.inputs.buildOnPreview, false);
        const name = "europe-west1-docker.pkg.dev/cp-proj/fleet-images/services";
        assert.match(image.inputs.tags[0], new RegExp(`^${name}:src-${sourceHash(ROOT).slice(0, 16)}-[0-9a-f]{8}$`));
        assert.strictEqual(image.inputs.tags.length, 1);
        // Explicit credentials: the deployer's access token for the repository's registry, never a host credential helper.
        assert.deepStrictEqual(image.inputs.registries.map((r: any) => [r.address, r.username]), [["europe-west1-docker.pkg.dev", ACCESS_TOKEN_USER]]);
        assert.strictEqual((reportInputs(image.wireInputs) as any).registries[0].password, SECRET_MASK, "the token is a secret in state");
        assert.strictEqual(run.outputs.imageRef, `${name}@${image.outputs.digest}`);
        assert.ok(isDigestPinnedImage(run.outputs.imageRef), run.outputs.imageRef);
        assert.deepStrictEqual(one(run, T.reader).inputs.member, READER);
        assert.strictEqual(one(run, T.reader).inputs.role, IMAGE_READER_ROLE);
    });

    it("leaves the digest unknown in a preview (nothing is built or pushed)", async () => {
        const run = await build(true);
        assert.strictEqual(one(run, T.image).outputs.digest, UNKNOWN);
        assert.strictEqual(byType(run, T.repo).length, 1);
    });

    it("changes the tag with anything else the build is made from, so an immutable-tag repository never refuses a rebuild", () => {
        const sources = sourceHash(ROOT);
        const settings = { dockerfile: "services/Dockerfile", platforms: ["linux/amd64"], labels: { a: "1" } };
        assert.strictEqual(buildTag(sources, settings), buildTag(sources, { ...settings }));
        for (const changed of [{ ...settings, platforms: ["linux/arm64"] }, { ...settings, labels: { a: "2" } }, { ...settings, dockerfile: "other/Dockerfile" }]) {
            assert.notStrictEqual(buildTag(sources, changed), buildTag(sources, settings), JSON.stringify(changed));
        }
        assert.notStrictEqual(buildTag("f".repeat(64), settings), buildTag(sources, settings));
    });

    it("changes the tag when the service sources change, not otherwise", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "svc-src-"));
        try {
            fs.mkdirSync(path.join(dir, "services"));
            fs.writeFileSync(path.join(dir, "services", "Dockerfile"), "FROM scratch\n");
            fs.writeFileSync(path.join(dir, "services", "main.ts"), "export {};\n");
            fs.writeFileSync(path.join(dir, "package.json"), "{}\n");
            const before = sourceHash(dir);
            assert.strictEqual(sourceHash(dir), before);
            fs.writeFileSync(path.join(dir, "services", "main.ts"), "export const x = 1;\n");
            assert.notStrictEqual(sourceHash(dir), before);
            assert.strictEqual(packageRoot(path.join(dir, "services")), dir);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("finds the package root from the sources (and from dist/)", () => {
        assert.strictEqual(packageRoot(path.join(ROOT, "components")), ROOT);
        assert.strictEqual(packageRoot(path.join(ROOT, "dist", "components")), ROOT);
    });

    it("rejects bad arguments in one pass", () => {
        const problems = validateServiceImageArgs("Bad Name", { project: "", region: "europe-west1-b", readers: ["allUsers"], sourceRoot: os.tmpdir() });
        assert.strictEqual(problems.length, 5, problems.join("\n"));
        assert.match(problems.join("\n"), /readers\[0\]: "allUsers" is a public principal/);
        assert.match(problems.join("\n"), /sourceRoot: .* has no services\/Dockerfile/);
    });
});

describe("services/Dockerfile and services/main.ts", () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, "services", "Dockerfile"), "utf8");

    it("pins every base image by digest and runs the compiled entry point as non-root", () => {
        const froms = dockerfile.split("\n").filter((l) => /^FROM /.test(l)).map((l) => l.split(/\s+/)[1]);
        assert.strictEqual(froms.length, 2);
        for (const image of froms) {
            assert.match(image, /@sha256:[a-f0-9]{64}$/, image);
        }
        assert.match(froms[1], /^gcr\.io\/distroless\/nodejs24-debian12@/);
        assert.match(dockerfile, /^RUN mv image-lock\.json package-lock\.json && npm ci /m);
        assert.match(dockerfile, /^RUN npx tsc -p services\/tsconfig\.json$/m);
        assert.match(dockerfile, /^RUN npm prune --omit=dev/m);
        assert.match(dockerfile, /^USER nonroot$/m);
        assert.match(dockerfile, /^ENTRYPOINT \["\/nodejs\/bin\/node", "dist\/services\/main\.js"\]$/m);
        // Everything the Dockerfile copies from the context is let through by .dockerignore, and is what the tag hashes.
        const ignore = fs.readFileSync(path.join(ROOT, ".dockerignore"), "utf8");
        const copied = dockerfile.split("\n").filter((l) => /^COPY (?!--from)/.test(l)).flatMap((l) => l.split(/\s+/).slice(1, -1));
        assert.deepStrictEqual(copied, ["package.json", "services/image-lock.json", "services"]);
        for (const c of copied) {
            assert.ok(ignore.includes(`!${c}`), c);
            assert.ok(SERVICE_SOURCES.includes(c), `${c} is copied but not hashed into the tag`);
        }
    });

    it("selects the service from argv first, then SERVICE, and refuses anything else", async () => {
        assert.deepStrictEqual(SERVICES, ["signer", "broker", "webhook", "generator"]);
        assert.deepStrictEqual(selectService(["node", "main.js", "broker"], { SERVICE: "signer" }), { service: "broker" });
        assert.deepStrictEqual(selectService(["node", "main.js"], { SERVICE: "generator" }), { service: "generator" });
        assert.match(selectService(["node", "main.js"], {}).problem!, /no service named/);
        assert.match(selectService(["node", "main.js", "shell"], {}).problem!, /unknown service "shell"/);
        await assert.rejects(runServices(["node", "main.js", "nope"], {}), /unknown service "nope"/);
        // Each service's own loader runs and refuses an empty environment (nothing listens with a half-known config).
        await assert.rejects(runServices(["node", "main.js", "signer"], {}), /SIGNER_KMS_KEY/);
        await assert.rejects(runServices(["node", "main.js", "broker"], {}), /BROKER_URL/);
        await assert.rejects(runServices(["node", "main.js"], { SERVICE: "webhook" }), /WEBHOOK_SECRET_VERSION/);
        await assert.rejects(runServices(["node", "main.js", "generator"], {}), /SIGNER_URL/);
    });
});
