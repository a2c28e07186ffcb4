/**
 * A stretch of a recording whose frames follow each other in wall time (one run of the HLS encoder):
 * between two parts the stream was off, or restarted.
 */
export interface RecordingPart {
  /** Wall time of its first frame (epoch ms, the encoder's EXT-X-PROGRAM-DATE-TIME). */
  readonly at: number;
  /** Where it starts in the recording (ms of media time). */
  readonly offsetMs: number;
  readonly durationMs: number;
}

/** Where a room's show is recorded, and how the recording's media time maps to wall time. */
export interface RecordingRecord {
  /** The node that keeps the files, and where the other nodes fetch them (its `--public-url`). */
  readonly nodeId: string;
  readonly url: string;
  /** The show the recording is of: the room's `createdAt`, so a room id used again names another show. */
  readonly show: string;
  /** A part is being recorded: the playlist still grows. */
  readonly recording: boolean;
  readonly parts: readonly RecordingPart[];
}

/**
 * Where every node finds a room's recording (memory on one node; the room's slot in Redis
 * otherwise). The recording node writes the record as the recording grows; it lives as long as the
 * files are kept (`ttlMs`, the retention), so an expired record and deleted files go together.
 */
export interface RecordingDirectory {
  get(roomId: string): Promise<RecordingRecord | undefined>;
  put(roomId: string, record: RecordingRecord, ttlMs: number): Promise<void>;
}
