export { type FeedFileResult, loadFeedFiles, readFeedFile } from './feed-file-loader.ts';
