# Removes everything the bundle installed (unit, prefix); with node['palisade']['purge'] the data
# directory too. Converging again changes nothing.
uninstaller = ::File.join(node['palisade']['prefix'], 'uninstall.sh')

execute 'palisade-uninstall' do
  command node['palisade']['purge'] ? "#{uninstaller} --purge" : uninstaller
  only_if { ::File.exist?(uninstaller) }
end

directory node['palisade']['data_dir'] do
  recursive true
  action :delete
  only_if { node['palisade']['purge'] }
end
