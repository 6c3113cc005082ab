resource "rediscloud_subscription" "this" {
  name              = var.subscription_name
  payment_method    = var.payment_method
  payment_method_id = var.payment_method_id
  memory_storage    = "ram"

  cloud_provider {
    provider = "AWS"

    region {
      region                      = var.region
      multiple_availability_zones = var.multiple_availability_zones
      networking_deployment_cidr  = var.deployment_cidr
    }
  }

  # Sizes the hardware at creation; ignored by the provider afterwards.
  creation_plan {
    dataset_size_in_gb           = var.dataset_size_in_gb
    quantity                     = 1
    replication                  = var.replication
    throughput_measurement_by    = "operations-per-second"
    throughput_measurement_value = var.throughput_ops
  }

  lifecycle {
    precondition {
      condition     = var.payment_method != "credit-card" || var.payment_method_id != null
      error_message = "The `payment_method_id` must be set when `payment_method` is `credit-card`."
    }
  }
}

resource "rediscloud_subscription_database" "this" {
  subscription_id              = rediscloud_subscription.this.id
  name                         = var.database_name
  dataset_size_in_gb           = var.dataset_size_in_gb
  data_persistence             = var.data_persistence
  throughput_measurement_by    = "operations-per-second"
  throughput_measurement_value = var.throughput_ops
  replication                  = var.replication
  password                     = var.database_password
  enable_tls                   = true
  source_ips                   = var.source_ips

  alert {
    name  = "dataset-size"
    value = 80
  }
}
