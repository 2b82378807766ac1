# The deployment script from `palisade deploy-script --platform linux --policy NAME` (or
# POST /api/v1/deploy-scripts). It embeds a live activation token: keep it in an encrypted data
# bag or Chef Vault and set this attribute from there, never in a role or environment file.
default['palisade']['deploy_script'] = nil
# The agent version the script installs (the bundle version it names); a different installed
# version is upgraded by running the (newer) script again.
default['palisade']['version'] = '0.1.0'
default['palisade']['prefix'] = '/opt/palisade'
default['palisade']['data_dir'] = '/var/lib/palisade-agent'
# Activation retries inside the script (a manager that is starting, a network not yet up).
default['palisade']['attempts'] = 6
default['palisade']['backoff_seconds'] = 2
# remove recipe: also delete the data directory (identity, spool)
default['palisade']['purge'] = false
