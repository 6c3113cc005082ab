terraform {
  required_version = ">= 1.6.0"

  required_providers {
    mongodbatlas = {
      source = "mongodb/mongodbatlas"
      # 1.x block syntax for mongodbatlas_advanced_cluster; 2.x changed it to attributes.
      version = ">= 1.21.0, < 2.0.0"
    }
  }
}
