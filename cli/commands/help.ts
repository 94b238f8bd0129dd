import { Args, Command, Help } from '@oclif/core';
import { reportError, unknownCommand } from '../errors';

/** `nfp help [COMMAND]`: the same text as `nfp COMMAND --help`. */
export default class HelpCommand extends Command {
  static override summary = 'Show help for nfp or for one of its commands.';

  static override examples = ['<%= config.bin %> help deploy', '<%= config.bin %> help nf build'];

  static override strict = false;
  static override args = {
    command: Args.string({ description: 'the command to explain (several words for `nf build`)' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(HelpCommand);
    const words = argv as string[];
    const id = words.join(':');
    if (words.length > 0 && !this.config.findCommand(id) && !this.config.findTopic(id)) {
      reportError(unknownCommand(this.config, id), false);
      return;
    }
    await new Help(this.config).showHelp(words);
  }
}
