package dev.apiary.iscsi.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** RFC 7143 §3.2.2.1 ordering and §4.2.2.1 window rules, including 32-bit wrap-around. */
class CommandWindowTest {
    @Test
    void deliversInOrderHoldsEarlyOnesAndIgnoresTheRest() {
        CommandWindow<String> w = new CommandWindow<>(10, 4); // window 10..13
        assertThat(w.accept(12, "c12")).isEqualTo(CommandWindow.Verdict.QUEUED);
        assertThat(w.accept(11, "c11")).isEqualTo(CommandWindow.Verdict.QUEUED);
        assertThat(w.accept(14, "c14")).as("beyond MaxCmdSN").isEqualTo(CommandWindow.Verdict.IGNORED);
        assertThat(w.accept(9, "c9")).as("already used").isEqualTo(CommandWindow.Verdict.IGNORED);
        assertThat(w.accept(12, "again")).as("duplicate").isEqualTo(CommandWindow.Verdict.IGNORED);
        assertThat(w.accept(10, "c10")).isEqualTo(CommandWindow.Verdict.DELIVER);
        assertThat(w.nextInOrder()).isEqualTo("c11");
        assertThat(w.nextInOrder()).isEqualTo("c12");
        assertThat(w.nextInOrder()).isNull();
        assertThat(w.expCmdSn()).isEqualTo(13);
        assertThat(w.maxCmdSn()).as("the window shrinks until commands finish").isEqualTo(13);
        w.finished();
        w.finished();
        assertThat(w.maxCmdSn()).isEqualTo(15);
    }

    @Test
    void worksAcrossTheWrap() {
        CommandWindow<String> w = new CommandWindow<>(0xfffffffe, 8);
        assertThat(w.accept(0xfffffffe, "a")).isEqualTo(CommandWindow.Verdict.DELIVER);
        assertThat(w.accept(0, "c")).isEqualTo(CommandWindow.Verdict.QUEUED);
        assertThat(w.accept(0xffffffff, "b")).isEqualTo(CommandWindow.Verdict.DELIVER);
        assertThat(w.nextInOrder()).isEqualTo("c");
        assertThat(w.expCmdSn()).isEqualTo(1);
        assertThat(w.accept(0xfffffffd, "old")).isEqualTo(CommandWindow.Verdict.IGNORED);
    }
}
