import { AdvisoryIndex, type OsvRecord } from '@palisade/vuln';
import type { StoreProvider } from '../store/store-provider.ts';

/**
 * The advisory index of this manager node, built from the shared vulnerability data and rebuilt
 * when an import (on any node) has changed it.
 */
export class AdvisoryIndexCache {
  private index = new AdvisoryIndex();
  private version = '';
  private loading: Promise<AdvisoryIndex> | undefined;

  constructor(private readonly stores: StoreProvider) {}

  async current(): Promise<AdvisoryIndex> {
    const version = await this.stores.vulnData.version();
    if (version === this.version) return this.index;
    this.loading ??= (async () => {
      const index = new AdvisoryIndex();
      for await (const batch of this.stores.vulnData.all()) index.addAll(batch as OsvRecord[]);
      this.index = index;
      this.version = version;
      return index;
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }
}
