export { createRewardsService, type RewardsService, type RewardsServiceOptions } from './rewards-service.js';
