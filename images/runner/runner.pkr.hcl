# The gce runner pools' VM image (docs/runner-image.md): Ubuntu with the GitHub Actions runner unpacked in
# /opt/actions-runner, unconfigured, owned by the unprivileged `runner` user, and the tools the startup
# script (components/runnerPool/startupScript.ts) and the workflow-author upload step use.
#
#   packer plugins install github.com/hashicorp/googlecompute   # once, Packer 1.7 or later
#   packer build -var project_id=acme-build-images images/runner
#
# The runner release is pinned by version AND sha256 (runner_version, runner_sha256): install.sh refuses a
# download whose digest differs. Upgrade both together (docs/runner-image.md, "Upgrading the runner").

variable "project_id" {
  type        = string
  description = "Project that builds and owns the image (e.g. acme-build-images)."
}

variable "zone" {
  type        = string
  default     = "europe-west1-b"
  description = "Zone of the temporary build VM."
}

variable "source_image_family" {
  type        = string
  default     = "ubuntu-2404-lts-amd64"
  description = "Public base image family (Shielded VM capable)."
}

variable "image_family" {
  type        = string
  default     = "gha-runner-ubuntu-2404"
  description = "Family of the built image: pools[].image = projects/<project_id>/global/images/family/<image_family>."
}

variable "runner_version" {
  type        = string
  default     = "2.330.0"
  description = "actions/runner release installed in the image."
}

variable "runner_sha256" {
  type        = string
  default     = "af5c33fa94f3cc33b8e97937939136a6b04197e6dadfcfb3b6e33ae1bf41e79a"
  description = "sha256 of actions-runner-linux-x64-<runner_version>.tar.gz, from the release notes."
}

locals {
  # A new image per build: the provenance records the image by immutable id, so images are never updated in place.
  image_name = "gha-runner-${replace(var.runner_version, ".", "-")}-${formatdate("YYYYMMDDhhmmss", timestamp())}"
}

source "googlecompute" "runner" {
  project_id          = var.project_id
  zone                = var.zone
  source_image_family = var.source_image_family
  image_name          = local.image_name
  image_family        = var.image_family
  image_description   = "GitHub Actions runner ${var.runner_version} for hardened-build-fleet gce pools"
  image_labels = {
    "build-fleet-role" = "runner"
    "runner-version"   = replace(var.runner_version, ".", "-")
  }
  machine_type            = "e2-standard-2"
  disk_size               = 30
  ssh_username            = "packer"
  enable_secure_boot      = true
  enable_vtpm             = true
  enable_integrity_monitoring = true
}

build {
  sources = ["source.googlecompute.runner"]

  provisioner "shell" {
    script          = "${path.root}/install.sh"
    execute_command = "sudo env {{ .Vars }} bash '{{ .Path }}'"
    environment_vars = [
      "RUNNER_VERSION=${var.runner_version}",
      "RUNNER_SHA256=${var.runner_sha256}",
    ]
  }
}
