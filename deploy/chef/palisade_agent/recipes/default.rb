# Install (or upgrade) and activate: what most run lists want.
include_recipe 'palisade_agent::install'
include_recipe 'palisade_agent::activate'
