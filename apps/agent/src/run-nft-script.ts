import { execFile } from 'node:child_process';

/** Loads an nftables script (`nft -f -`): one atomic transaction, or an error with nft's message. */
export type NftScriptRunner = (script: string) => Promise<void>;

export const runNftScript: NftScriptRunner = (script) =>
  new Promise((resolve, reject) => {
    const child = execFile('nft', ['-f', '-'], (err, _out, stderr) =>
      err ? reject(new Error(`nft: ${stderr || err.message}`)) : resolve(),
    );
    child.stdin?.end(script);
  });
