/**
 * The release registry (I11): a control-plane Artifact Registry Docker repository keeps its tags
 * immutable, so a tag (an image's `.att` attestation tag, a release tag) once written names the same
 * manifest for good: nobody, the publishing identity included, can point it at other bytes later.
 */
import { FleetResourcePolicy } from "../../meta";
import { roleOf } from "../../model/labels";
import { get } from "../../model/props";
import { boolish, forTypes, undecided } from "../../recognisers/common";

export const AR_REPOSITORY = "gcp:artifactregistry/repository:Repository";

export const releaseRegistryImmutableTags: FleetResourcePolicy = {
    name: "release-registry-immutable-tags",
    description: "[I11] Control-plane Artifact Registry Docker repositories (the release registry) have immutable tags.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "Artifact Registry Docker repositories labelled `build-fleet-role=control-plane` set `dockerConfig.immutableTags: true`",
        invariants: ["I11"],
        fix: "Set `dockerConfig: { immutableTags: true }` on the repository (ControlPlane's release registry does).",
    },
    validateResource: forTypes([AR_REPOSITORY], (props, _args, report) => {
        if (roleOf(AR_REPOSITORY, props) !== "control-plane") {
            return;
        }
        const format = get(props, "format");
        if (typeof format === "string" && format.toUpperCase() !== "DOCKER") {
            return;
        }
        const immutable = boolish(get(props, "dockerConfig", "immutableTags"));
        if (immutable === "unknown") {
            undecided(report, "dockerConfig.immutableTags of the control-plane registry repository is unknown.");
        } else if (immutable !== true) {
            report(`control-plane registry repository ${JSON.stringify(get(props, "repositoryId") ?? "(unnamed)")} does not set dockerConfig.immutableTags: true; a tag (an attestation's sha256-<hex>.att, a release tag) could later name other bytes.`);
        }
    }),
};

export const registryPolicies: FleetResourcePolicy[] = [releaseRegistryImmutableTags];
