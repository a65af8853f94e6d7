/** A feature worker: reads, validates and computes the features of the line batches it is sent. */
import { parentPort } from 'node:worker_threads';
import { DEFAULT_MAX_LINE_BYTES, linesOfBlock } from '../ingest/lines.js';
import { RecordReader } from '../ingest/read.js';
import { featurize, featurizedBuffers, type FeaturizeAnswer, type FeaturizeRequest } from './featurize.js';

const port = parentPort;
if (port === null) throw new Error('feature-worker must run as a worker thread');
port.on('message', (m: FeaturizeRequest) => {
  // A reader per batch: the format is fixed, so the reader holds no state across lines.
  const answer: FeaturizeAnswer = { seq: m.seq, out: featurize(new RecordReader(m.path, m.format), linesOfBlock(m.block, DEFAULT_MAX_LINE_BYTES), m.features) };
  // The columns' buffers move to the scan's thread, not copied; only the text is.
  port.postMessage(answer, featurizedBuffers(answer.out));
});
