# Upgrade = install with a newer node['palisade']['version'] and a deployment script generated
# after the newer bundle was put on the manager: the bundle's install.sh replaces the files in
# place, keeps the identity and restarts the running service.
include_recipe 'palisade_agent::install'
