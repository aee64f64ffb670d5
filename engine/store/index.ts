/** The model store's public surface (DESIGN §3): other parts import from here. */
export { blobPath, checkBlob, commitBlob, findBlob, findVerifiedBlob, listBlobs, sha256OfFile, type BlobInfo, type BlobRecord, type BlobSource } from './blob-store.js';
export { diskMargin, preflightDiskSpace, statfsFreeSpace, type FreeSpaceSource } from './disk-space.js';
export { downloadFile, type DownloadOptions, type DownloadResult, type Integrity } from './download.js';
export { downloadQueue, setConcurrentDownloads } from './download-queue.js';
export { fetchToStore, partFileFor, setFreeSpaceSource, type FetchToStoreOptions, type StoredWeight, type WeightSource } from './fetch-to-store.js';
export { purgeUnreferencedBlobs, storeReport, verifyBlobs, type BlobCheck, type StoredBlobReport } from './gc.js';
export { DEFAULT_HUB_HOSTS, displayUrl, isHubHost } from './hub-auth.js';
export { linkBlob, type LinkMethod } from './link-blob.js';
export { appWeightRefs, collectReferences, type BlobReference } from './references.js';
