"""Configuration: environments/*.yaml into one typed, checked Config per environment.

load (read each file, check it against the declared fields, merge) > rules (what the
merged files must hold: rules/__init__.py says how to add one) > build (the typed Config,
no checking). fields is the declared data, schema the small library that walks it,
yamlpos the safe YAML reader that keeps lines, cloud_db the table of managed-database
modules, cloudcheck the rule across environment files.
"""
