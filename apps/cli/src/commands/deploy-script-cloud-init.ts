/** Where the cloud-config writes the script and the result line (docs/deploy/cloud-init.md). */
export const CLOUD_INIT_SCRIPT = '/run/palisade-deploy.sh';
export const CLOUD_INIT_LOG = '/var/log/palisade-deploy.log';
export const CLOUD_INIT_RESULT = '/var/log/palisade-deploy.result';

/**
 * A `#cloud-config` user data that writes the deployment script (base64, mode 0700, under /run so
 * it never reaches the disk image) and runs it once on first boot; the script holds the token, so
 * it is deleted after the run. Its log and one-line result stay in /var/log.
 */
export function renderCloudInit(script: string, comment: string): string {
  const b64 = Buffer.from(script, 'utf8').toString('base64');
  const run = `PALISADE_RESULT_FILE=${CLOUD_INIT_RESULT} sh ${CLOUD_INIT_SCRIPT} >${CLOUD_INIT_LOG} 2>&1; rc=$?; rm -f ${CLOUD_INIT_SCRIPT}; cat ${CLOUD_INIT_RESULT} >/dev/console 2>/dev/null; exit $rc`;
  return [
    '#cloud-config',
    `# ${comment.replace(/\n/g, ' ')}`,
    '# Needs Node.js >= 20.19 in the image (or add it under packages/apt sources); see docs/deploy/cloud-init.md.',
    'write_files:',
    `  - path: ${CLOUD_INIT_SCRIPT}`,
    "    permissions: '0700'",
    '    owner: root:root',
    '    encoding: b64',
    `    content: ${b64}`,
    'runcmd:',
    `  - [sh, -c, ${JSON.stringify(run)}]`,
    '',
  ].join('\n');
}
