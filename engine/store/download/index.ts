/**
 * The downloader's public surface: ranged, resumable, multi-connection downloads into the store,
 * verified by SHA-256 (docs/architecture.md follows one download through these files). Kept apart
 * from the store's index (blobs, gc, links) so that commands which never download do not load got.
 */
export { downloadFile, type DownloadOptions, type DownloadResult, type Integrity } from './download.js';
export { DownloadProgress } from './download-progress.js';
export { downloadQueue, setConcurrentDownloads } from './download-queue.js';
export {
  type FetchToStoreOptions,
  fetchToStore,
  freeSpaceSource,
  partFileFor,
  type StoredWeight,
  setFreeSpaceSource,
  type WeightSource,
} from './fetch-to-store.js';
export { DEFAULT_HUB_HOSTS, displayUrl, isHubHost } from '../../core/hub-auth.js';
export { removePartial } from './partial-state.js';
export { listPartialDownloads, type PartialDownload, removeIdlePartials } from './partials.js';
