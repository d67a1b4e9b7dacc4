package io.marzban.iplimiter.agent.tail;

import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the tailer does when the file it reads is rotated: truncated under it (copytruncate), or replaced at the
 * path (rename + create, delete + recreate) and then finished. Rotation keeps the open file on the chain of files
 * in the order they were written, however many rotations happened while the tailer was behind.
 */
final class Rotation {

    /** Where reading goes on after a rotation. */
    enum Outcome {
        /** Truncated: the rest of what was not read yet is in the copy, now open at the same offset. */
        REST_IN_COPY,
        /** Truncated with no copy to be found: the file is read again from its start. */
        READ_AGAIN,
        /** Replaced and finished: the file written after it, a rotated sibling, is open from its start. */
        NEXT_FILE,
        /** Replaced and finished: the file written after it is the one at the path, to be opened once it is there. */
        FILE_AT_PATH
    }

    /** The tailer's logger: its lines keep the name operators filter on (docs show them as FileTailer). */
    private static final Logger LOG = LoggerFactory.getLogger(FileTailer.class);

    private final OpenFile file;
    private final String pathName;
    private final RotatedFiles rotated;
    private final long quietMillis;

    Rotation(OpenFile file, RotatedFiles rotated, long quietMillis) {
        this.file = file;
        this.pathName = file.pathName();
        this.rotated = rotated;
        this.quietMillis = quietMillis;
    }

    /**
     * The file was truncated under us: what we had not read yet is only in the copy that copytruncate made, so
     * read the rest from there first (then the files written after it), else read the file again from its start.
     */
    Outcome afterTruncation(OpenFile.Change change) throws IOException {
        String what = change == OpenFile.Change.SHRANK
                ? "shrank from " + file.offset() + " to " + file.knownSize() + " bytes (truncated, e.g. by copytruncate)"
                : "was truncated and written again";
        long knownUnread = file.knownUnread();
        Optional<RotatedFiles.Found> copy = rotated.find(file.identity(), file.offset() + 1);
        if (copy.isPresent()) {
            LOG.info("{} {}; reading the rest of it from {} (offset {}), then the files written after it", pathName,
                    what, copy.get().path(), file.offset());
            file.open(copy.get(), true);
            return Outcome.REST_IN_COPY;
        }
        if (knownUnread > 0) {
            LOG.warn("{} {} before at least {} bytes of it were read, and no uncompressed copy of it is among {}: "
                    + "those bytes are lost; reading the file again from its start", pathName, what, knownUnread, rotated);
        } else {
            LOG.info("{} {}; reading it again from its start", pathName, what);
        }
        file.readAgainFromStart();
        return Outcome.READ_AGAIN;
    }

    /**
     * True once the file has been replaced at the path and is finished: a copy at once (nobody writes to it), a
     * renamed file once it has been quiet for the quiet period (Xray keeps writing to it for a while).
     */
    boolean finished() {
        return file.replacedAtPath() && (file.isCopy() || file.quietFor(quietMillis));
    }

    /** The file being read is finished: go on with the one written after it, which may itself be rotated already. */
    Outcome moveOn() {
        Optional<RotatedFiles.Found> next = file.next(rotated);
        LOG.info("{} was rotated; finished the old file at offset {}; reading {} next", pathName, file.offset(),
                next.map(found -> found.path().toString()).orElse("the new file at the path"));
        file.offset(0);
        if (next.isPresent()) {
            try {
                file.open(next.get(), false);
                return Outcome.NEXT_FILE;
            } catch (IOException e) {
                LOG.warn("Cannot open {} ({}); reading the new file at the path instead", next.get().path(),
                        e.toString());
            }
        }
        file.close();
        return Outcome.FILE_AT_PATH;
    }
}
