"""Rules over rendered output: the restricted Pod Security policy, Terraform structure."""
