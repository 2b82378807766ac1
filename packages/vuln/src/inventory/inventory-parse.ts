import type { Diagnostic } from '@palisade/diagnostics';
import type { InventoryItem } from '../inventory-item.ts';

/** What every inventory parser returns: items found plus problems, never an exception. */
export interface InventoryParse {
  items: InventoryItem[];
  diagnostics: Diagnostic[];
}
