"""The rules a merged configuration must pass before it is built: RULES, in order.

Each file is first checked alone against the declared fields (tasks/config/fields.py:
types, ranges, patterns of one value). A rule is everything else: what relates two
values, a file to another, or a file to the disk. The first rule that fails raises its
ConfigError, so a file with several mistakes shows them one at a time, rules in this order
and each rule in file order.

How to add a rule:
1. Write a function `def <what_must_hold>(m: Merged) -> None` in the module of its subject
   (stack, databases, services, builds, cloud, secrets, sync, autoscale, metrics). It reads
   `m.data` (the merged files, their types already right) and raises
   `m.error(key_path, problem, fix)`: the error names the file that set the key, the key path
   and the line, and the fix is a sentence the user can act on.
2. Add it to RULES below, after the rules whose guarantees it relies on (a rule about the
   databases a service uses comes after `uses_name_known_databases`).
3. Add `test_<function name>` to tests/unit/config/rules/test_<module>.py: a file that
   breaks it, and the exact error (tests/unit/config/test_rules.py fails without it).
Rules across environment files (two environments sharing one cluster) are in
tasks/config/cloudcheck.py: they need every environment at once.
"""

from __future__ import annotations

from collections.abc import Callable

from tasks.config.merged import Merged
from tasks.config.rules import (
    autoscale,
    builds,
    cloud,
    cloud_values,
    collisions,
    databases,
    limits,
    metrics,
    names,
    secrets,
    services,
    stack,
    sync,
)

Rule = Callable[[Merged], None]

RULES: tuple[Rule, ...] = (
    names.environment_files_end_in_yaml,
    names.environment_names_are_not_the_tools,
    # Before required_keys_are_set: a typo'd service name is not a service missing `command`.
    services.environment_services_are_the_stacks_or_whole,
    stack.required_keys_are_set,
    stack.stack_only_keys_are_set_in_the_stack_file,
    stack.default_env_names_an_environment,
    stack.aliases_name_tasks_not_aliases,
    databases.placement_names_known_databases,
    databases.endpoints_name_known_databases,
    databases.every_database_has_a_placement,
    databases.only_databases_with_a_cluster_block_run_in_a_cluster,
    databases.a_cluster_placement_needs_kubernetes,
    databases.an_external_database_has_an_endpoint,
    databases.secret_env_names_declared_secrets,
    collisions.database_env_vars_are_distinct,
    collisions.database_addresses_are_not_secrets,
    collisions.config_keys_are_not_database_addresses,
    collisions.service_env_is_not_a_database_address,
    collisions.a_database_variable_is_plain_or_secret,
    # Before every_secret_reaches_a_container: a secret named like a variable the tool sets is
    # refused as that, whichever container it would reach.
    secrets.secrets_are_not_the_tools_variables,
    services.disabled_services_are_known,
    services.uses_name_known_databases,
    services.calls_name_known_services,
    services.calls_name_a_port_of_the_callee,
    services.used_databases_are_not_disabled,
    services.called_services_are_not_disabled,
    services.service_secrets_are_declared,
    services.every_secret_reaches_a_container,
    services.deployments_have_a_health_check,
    services.jobs_have_no_health_check,
    services.health_checks_have_the_keys_of_their_kind,
    builds.every_service_has_a_build_spec,
    builds.build_args_are_not_the_tools,
    builds.copying_from_the_builder_needs_a_builder,
    builds.platforms_are_listed_once,
    services.service_names_are_not_the_tools_images,
    names.built_databases_are_not_named_like_the_tools_images,
    names.cluster_database_names_fit_a_statefulset,
    services.a_name_is_a_service_or_a_database,
    stack.lists_have_no_repeats,
    databases.only_external_databases_have_an_endpoint,
    stack.secrets_are_never_plain_values,
    secrets.passwords_are_never_plain_values,
    secrets.env_settings_are_not_named_like_secrets,
    stack.plain_settings_are_not_named_like_secrets,
    services.uses_and_optional_uses_are_disjoint,
    services.ports_are_unique_per_service,
    services.host_ports_are_published_once,
    services.requests_are_at_most_limits,
    limits.resources_are_what_docker_accepts,
    limits.jobs_run_one_container,
    autoscale.autoscale_min_is_at_most_max,
    autoscale.only_deployments_autoscale,
    autoscale.replicas_agree_with_autoscale,
    metrics.metrics_are_declared_in_the_stack_file,
    metrics.only_deployments_declare_metrics,
    metrics.metrics_port_is_one_of_the_services_ports,
    metrics.one_monitoring_component,
    metrics.monitoring_watches_a_service,
    metrics.compose_prometheus_has_its_name,
    metrics.compose_prometheus_port_is_free,
    databases.databases_that_may_run_in_a_cluster_have_a_data_dir,
    stack.pod_uid_is_not_a_host_account,
    cloud.node_count_is_ordered,
    cloud.cloud_databases_are_the_stacks,
    cloud.cloud_database_settings_are_its_modules,
    cloud.cloud_databases_have_their_modules_required_settings,
    cloud.cloud_databases_get_a_module_of_their_engine,
    cloud.cloud_databases_are_placed_external,
    cloud.a_module_makes_one_database,
    cloud.cloud_database_names_fit_their_module,
    cloud.redis_cloud_deploys_outside_the_vpc,
    services.compose_runs_one_container_per_published_port,
    builds.build_inputs_stay_in_the_project,
    builds.build_inputs_exist,
    builds.build_targets_are_stages_of_their_dockerfile,
    cloud.cluster_version_is_kubernetes_version,
    cloud.argocd_settings_need_argocd_mode,
    cloud.a_public_endpoint_names_who_may_reach_it,
    cloud_values.the_project_name_fits_the_roots,
    cloud_values.names_made_from_project_and_environment_fit,
    cloud_values.the_registry_is_ecr,
    cloud_values.the_registry_is_in_the_region,
    cloud_values.vpc_is_a_size_the_networking_module_takes,
    cloud_values.node_instance_types_are_listed,
    cloud_values.a_node_group_has_room_for_a_node,
    cloud_values.cluster_admins_are_listed,
    cloud_values.cluster_access_names_iam_roles_or_users,
    cloud_values.public_endpoint_cidrs_do_not_add_up_to_the_internet,
    cloud_values.the_github_repository_is_owner_and_name,
    cloud_values.the_rds_user_is_not_reserved,
    sync.sync_is_not_for_cloud_environments,
    sync.only_deployments_sync,
    sync.sync_sources_stay_in_the_project,
    sync.sync_sources_exist,
    sync.sync_sources_are_in_the_build_context,
    sync.restarting_the_container_is_for_compose,
)


def check(m: Merged) -> None:
    """Raise the first rule's ConfigError; return when every rule holds."""
    for rule in RULES:
        rule(m)
