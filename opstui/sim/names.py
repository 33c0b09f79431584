"""The raw material of the simulated tenant: people, services, step catalogues and messages."""

from __future__ import annotations

from typing import Final, NamedTuple


class Person(NamedTuple):
    """A member of the simulated tenant."""

    name: str
    email: str


PEOPLE: Final[tuple[Person, ...]] = (
    Person("Ada Lovelace", "ada@example.com"),
    Person("Grace Hopper", "grace@example.com"),
    Person("Alan Turing", "alan@example.com"),
    Person("Katherine Johnson", "katherine@example.com"),
    Person("Margaret Hamilton", "margaret@example.com"),
    Person("Dennis Ritchie", "dennis@example.com"),
    Person("Barbara Liskov", "barbara@example.com"),
    Person("Ken Thompson", "ken@example.com"),
    Person("Radia Perlman", "radia@example.com"),
    Person("Donald Knuth", "donald@example.com"),
    Person("Frances Allen", "frances@example.com"),
    Person("Edsger Dijkstra", "edsger@example.com"),
)

API_USER: Final = "API user"
"""Who the log says performed an action that came through the API."""

SCHEDULER: Final = "scheduler"
"""Who the log says started a run of the autorun schedule."""


class Service(NamedTuple):
    """A service of the simulated company and the team that owns it."""

    name: str
    team: str


SERVICES: Final[tuple[Service, ...]] = (
    Service("payments-api", "payments"),
    Service("billing-worker", "payments"),
    Service("ledger-service", "payments"),
    Service("fraud-detector", "payments"),
    Service("web-frontend", "web"),
    Service("customer-portal", "web"),
    Service("admin-console", "web"),
    Service("checkout-service", "commerce"),
    Service("order-service", "commerce"),
    Service("inventory-service", "commerce"),
    Service("pricing-engine", "commerce"),
    Service("shipping-tracker", "commerce"),
    Service("auth-gateway", "identity"),
    Service("user-profile", "identity"),
    Service("search-indexer", "platform"),
    Service("notifications", "platform"),
    Service("api-gateway", "platform"),
    Service("media-transcoder", "platform"),
    Service("mobile-backend", "mobile"),
    Service("reporting-service", "data"),
    Service("data-lake-etl", "data"),
    Service("analytics-pipeline", "data"),
    Service("support-desk", "support"),
    Service("recommendations", "growth"),
)

SDLC_SUFFIXES: Final[tuple[str, ...]] = (
    "deploy",
    "release",
    "build",
    "ci",
    "canary",
    "hotfix",
    "nightly",
    "promote",
)

SFDC_NAMES: Final[tuple[str, ...]] = (
    "salesforce-metadata-sync",
    "sfdc-sales-cloud-deploy",
    "sfdc-service-cloud-release",
    "sfdc-cpq-deploy",
    "sfdc-apex-tests",
    "sfdc-profile-backup",
    "sfdc-experience-cloud-release",
    "sfdc-sandbox-refresh",
    "sfdc-marketing-cloud-sync",
    "sfdc-field-service-deploy",
)

AI_ML_NAMES: Final[tuple[str, ...]] = (
    "churn-model-train",
    "fraud-model-retrain",
    "recommendations-model-deploy",
    "llm-eval-nightly",
    "embedding-refresh",
    "demand-forecast-train",
    "search-ranking-retrain",
    "support-intent-classifier",
)

ENVS: Final[tuple[str, ...]] = ("prod", "staging", "dev")

REJECT_REASONS: Final[tuple[str, ...]] = (
    "Change freeze until Monday",
    "Missing sign-off from QA",
    "Release notes are incomplete",
    "Wrong build number, please rebuild",
    "Wait until the incident is resolved",
    "Load test results are not attached",
)

PAUSE_REASONS: Final[tuple[str, ...]] = (
    "Paused by an operator: waiting for the database migration window",
    "Paused: the build agent pool is exhausted",
    "Paused by an operator: vendor maintenance in progress",
)

FAILURE_MESSAGES: Final[dict[str, str]] = {
    "git": "fatal: could not read from remote repository",
    "jenkins": "Jenkins job finished with result FAILURE (exit code 1)",
    "github-actions": "Workflow run failed: job 'build' exited with code 2",
    "gitlab-ci": "Pipeline job failed: script exited with code 1",
    "sonar": "Quality gate failed: coverage 61.4% is below 80%",
    "snyk": "3 high-severity vulnerabilities found",
    "docker-push": "denied: requested access to the resource is denied",
    "terraform": "Error acquiring the state lock: ConditionalCheckFailedException",
    "argo": "Sync failed: health check timed out after 300s",
    "helm": "UPGRADE FAILED: timed out waiting for the condition",
    "selenium": "4 of 52 smoke tests failed",
    "jmeter": "p95 latency 2.8s exceeds the 1.5s threshold",
    "slack": "channel_not_found",
    "sfdc-configurator": "Deployment failed: 2 component errors",
    "pmd": "PMD found 12 violations of priority 1",
    "aws-s3": "AccessDenied: the bucket policy does not allow s3:GetObject",
    "databricks": "Cluster terminated: spot instances were reclaimed",
    "python": "Evaluation failed: AUC 0.71 is below the 0.80 threshold",
    "mlflow": "Model registry rejected the version: signature mismatch",
    "sagemaker": "Endpoint creation failed: ResourceLimitExceeded",
}

TASKS: Final[tuple[tuple[str, str, str], ...]] = (
    # (name, type, description)
    ("sync-sales-cloud-repo", "sync-sfdc-repo", "Syncs Sales Cloud metadata into Git"),
    ("git-mirror-payments-api", "git-to-git-sync", "Mirrors payments-api from GitHub to GitLab"),
    ("sfdc-cert-rotation", "sfdc-cert-gen", "Rotates the Salesforce JWT certificate"),
    ("create-ecs-cluster-staging", "aws-create-ecs-cluster", "Creates the staging ECS cluster"),
    ("aks-cluster-dev", "azure-cluster-creation", "Creates the dev AKS cluster"),
    ("sfdc-org-sync-uat", "sfdc-org-sync", "Syncs the UAT org with production"),
    ("git-mirror-web-frontend", "git-to-git-sync", "Mirrors web-frontend to the backup remote"),
    ("gitscraper-secrets-audit", "gitscraper", "Scans repositories for committed secrets"),
    ("snaplogic-orders-sync", "snaplogic", "Pushes order pipelines to SnapLogic"),
    ("create-ecs-cluster-prod", "aws-create-ecs-cluster", "Creates the production ECS cluster"),
    ("sync-service-cloud-repo", "sync-sfdc-repo", "Syncs Service Cloud metadata into Git"),
    ("aks-cluster-staging", "azure-cluster-creation", "Creates the staging AKS cluster"),
    ("git-mirror-checkout-service", "git-to-git-sync", "Mirrors checkout-service to GitLab"),
    ("sfdc-cert-rotation-uat", "sfdc-cert-gen", "Rotates the UAT Salesforce certificate"),
)
