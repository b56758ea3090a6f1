import { openStore } from '../../memory/open.js';
import { memoryStoreContract } from './memory-store.contract.js';

memoryStoreContract('SQLite (:memory:)', (options) => openStore(':memory:', options));
