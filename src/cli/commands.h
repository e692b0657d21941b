/* commands.h - the subcommands of the cotenant CLI (table in main.c). */
#ifndef COTENANT_COMMANDS_H
#define COTENANT_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_advise(int argc, char **argv);
int cmd_modes(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_mig(int argc, char **argv);
int cmd_mode(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_agent(int argc, char **argv);

extern const char usage_run[], usage_analyze[], usage_report[], usage_advise[], usage_modes[], usage_monitor[], usage_mig[],
    usage_mode[], usage_deploy[], usage_agent[];

#endif
