# Activation is part of the deployment script (install recipe). This recipe only checks that it
# happened, so a run list with a token that was refused fails loudly instead of converging.
ruby_block 'palisade-agent activated' do
  block do
    identity = ::File.join(node['palisade']['data_dir'], 'agent.json')
    raise "palisade_agent: #{identity} is missing: the host is not activated (see /var/log or the deploy script's output)" unless ::File.exist?(identity)
  end
  action :run
end

service 'palisade-agent' do
  action [:enable, :start]
  only_if { ::File.directory?('/run/systemd/system') }
end
