locals {
  atlas_region = upper(replace(var.region, "-", "_"))
}

resource "mongodbatlas_project" "this" {
  name   = var.project_name
  org_id = var.org_id
}

resource "mongodbatlas_advanced_cluster" "this" {
  project_id                     = mongodbatlas_project.this.id
  name                           = var.cluster_name
  cluster_type                   = "REPLICASET"
  mongo_db_major_version         = var.mongo_db_major_version
  backup_enabled                 = true
  pit_enabled                    = true
  termination_protection_enabled = var.termination_protection

  replication_specs {
    region_configs {
      provider_name = "AWS"
      region_name   = local.atlas_region
      priority      = 7

      electable_specs {
        instance_size = var.instance_size
        node_count    = var.node_count
      }
    }
  }

  advanced_configuration {
    javascript_enabled           = false
    minimum_enabled_tls_protocol = "TLS1_2"
  }

  dynamic "tags" {
    for_each = var.tags

    content {
      key   = tags.key
      value = tags.value
    }
  }
}

resource "mongodbatlas_database_user" "app" {
  project_id         = mongodbatlas_project.this.id
  auth_database_name = "admin"
  username           = var.database_username
  password           = var.database_password

  roles {
    role_name     = "readWrite"
    database_name = var.database_name
  }

  scopes {
    name = mongodbatlas_advanced_cluster.this.name
    type = "CLUSTER"
  }
}

resource "mongodbatlas_project_ip_access_list" "this" {
  count = length(var.access_cidrs)

  project_id = mongodbatlas_project.this.id
  cidr_block = var.access_cidrs[count.index]
  comment    = "Managed by Terraform (${var.project_name})"
}
