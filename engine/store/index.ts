/** The model store's public surface (DESIGN §3): other parts import from here. */
export { blobPath, commitBlob, findBlob, listBlobs, sha256OfFile, type BlobInfo } from './blob-store.js';
export { diskMargin, formatBytes, preflightDiskSpace, statfsFreeSpace, type FreeSpaceSource } from './disk-space.js';
export { downloadFile, type DownloadOptions, type DownloadResult, type Integrity } from './download.js';
export { DownloadProgress } from './download-progress.js';
export { downloadQueue, setConcurrentDownloads } from './download-queue.js';
export { fetchToStore, freeSpaceSource, partFileFor, setFreeSpaceSource, type FetchToStoreOptions, type StoredWeight, type WeightSource } from './fetch-to-store.js';
export { purgeUnreferencedBlobs, storeReport, verifyBlobs, type BlobCheck, type StoredBlobReport } from './gc.js';
export { DEFAULT_HUB_HOSTS, displayUrl, isHubHost } from './hub-auth.js';
export { linkBlob, type LinkMethod } from './link-blob.js';
export { listPartialDownloads, removeIdlePartials, type PartialDownload } from './partials.js';
export { removePartial } from './partial-state.js';
export { appWeightRefs, collectReferences, type BlobReference, type WeightRef } from './references.js';
