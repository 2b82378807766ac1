# Installs or upgrades the agent by running the generated deployment script, which downloads the
# bundle from the manager, checks its SHA-256, installs it, activates the host (once) and starts
# the service. It runs only when the installed version differs from node['palisade']['version'],
# so converging again changes nothing.
script_body = node['palisade']['deploy_script']
raise 'palisade_agent: set node["palisade"]["deploy_script"] (from `palisade deploy-script`) before this recipe runs' if script_body.to_s.empty?

prefix = node['palisade']['prefix']
version_file = ::File.join(prefix, 'VERSION')
script_path = ::File.join(Chef::Config[:file_cache_path], 'palisade-deploy.sh')

installed = lambda do
  ::File.exist?(version_file) && ::File.read(version_file).strip == node['palisade']['version']
end

file script_path do
  content script_body
  mode '0700'
  sensitive true # the script holds the activation token
  not_if { installed.call }
end

execute 'palisade-deploy' do
  command "sh #{script_path}"
  environment(
    'PALISADE_PREFIX' => prefix,
    'PALISADE_DATA_DIR' => node['palisade']['data_dir'],
    'PALISADE_ATTEMPTS' => node['palisade']['attempts'].to_s,
    'PALISADE_BACKOFF_SECONDS' => node['palisade']['backoff_seconds'].to_s
  )
  # the script's last line names the failed step and its reason; Chef shows it in the error
  live_stream true
  sensitive false
  not_if { installed.call }
  notifies :delete, "file[#{script_path}]", :immediately
end
